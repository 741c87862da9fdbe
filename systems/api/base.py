"""The base of every API adapter: what all providers need and no provider should re-implement.

- the key from an environment variable only (``api_key_env``), masked in logs and errors;
- bounded concurrency (a worker pool of ``max_concurrency``) and a request rate limit;
- retries with exponential backoff and jitter (``retry``), per request and with a run budget;
- provider voices made from prompt clips, cached by the clip's SHA-256 (one clone per prompt)
  and deleted when the run closes the system (``keep_voices: true`` to keep them);
- per item: time to first byte, total time, attempts, characters and an optional cost estimate
  from ``price`` (e.g. ``{per_1k_characters: 0.30, currency: USD}``);
- every setting that changes the audio goes into ``describe()`` (system.json, results.json).

A subclass implements ``request_audio`` (and ``create_voice`` / ``delete_voice`` when it clones).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from systems.api.limits import RateLimiter
from systems.api.retry import ProviderError, RetryPolicy
from systems.api.secrets import api_key, redact
from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem

log = logging.getLogger(__name__)


def require_package(package: str, minimum: str, extra: str, system: str) -> str:
    """The installed version of ``package``; SystemUnavailable naming the extra when it is
    missing or older than ``minimum``."""
    from packaging.version import Version

    try:
        installed = version(package)
    except PackageNotFoundError:
        raise SystemUnavailable(f"{system} needs {package}>={minimum}: pip install -e '.[{extra}]'") from None
    if Version(installed) < Version(minimum):
        raise SystemUnavailable(f"{system} needs {package}>={minimum}, found {installed}: "
                                f"pip install -e '.[{extra}]' --upgrade")
    return installed


@dataclass
class Audio:
    samples: np.ndarray
    sample_rate: int
    ttfb_s: float | None = None


def decode_pcm16(data: bytes, sample_rate: int) -> np.ndarray:
    if len(data) == 0 or len(data) % 2:
        raise ProviderError(f"malformed audio: {len(data)} bytes of 16-bit PCM")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def decode_file(data: bytes) -> tuple[np.ndarray, int]:
    """A WAV (or FLAC/OGG) body; mono mix-down."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - libsndfile's errors are plain RuntimeErrors
        raise ProviderError(f"malformed audio: {type(exc).__name__}: {exc}") from None
    if samples.shape[0] == 0:
        raise ProviderError("malformed audio: no samples")
    return samples.mean(axis=1), int(rate)


def read_stream(chunks: Iterable[bytes], start: float) -> tuple[bytes, float | None]:
    """All bytes of a streamed body and the time its first byte arrived (seconds after start)."""
    parts, first = [], None
    for chunk in chunks:
        if chunk:
            if first is None:
                first = time.perf_counter() - start
            parts.append(chunk)
    return b"".join(parts), first


def body_chunks(response: Any, size: int = 65536) -> Iterator[bytes]:
    """A ``requests`` streamed body as its bytes land: urllib3's ``read1`` returns what has
    arrived (up to ``size``), so the first byte is timed when it comes, whether the body is
    chunked, sized or ends when the connection closes (``iter_content(size)`` waits for ``size``
    bytes of the latter two). urllib3's read errors become ``requests`` ones, as iter_content
    raises them."""
    import requests
    import urllib3

    read1 = getattr(response.raw, "read1", None)
    if read1 is None:  # not a urllib3 2 response
        yield from response.iter_content(chunk_size=size)
        return
    try:
        while chunk := read1(size, decode_content=True):
            yield chunk
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None


def post_for_audio_file(session: Any, url: str, timeout_s: float, **request: Any) -> Audio:
    """POST with a ``requests`` session for plain-HTTP providers and decode the audio file in
    the body: non-200 answers and dropped connections become ProviderErrors (the latter
    retryable), and the time to first byte is measured."""
    import requests

    start = time.perf_counter()
    try:
        response = session.post(url, stream=True, timeout=timeout_s, **request)
        if response.status_code != 200:
            raise http_error(response.status_code, response.text, dict(response.headers))
        data, ttfb = read_stream(body_chunks(response), start)
    except requests.RequestException as exc:
        raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None
    samples, rate = decode_file(data)
    return Audio(samples, rate, ttfb)


class ApiSystem(TTSSystem):
    name = "api"
    thread_safe = True  # its own pool already sends concurrent requests; the rate limiter is shared
    provider = "api"
    default_key_env = "API_KEY"
    key_required = True  # False: a self-hosted server that may run without a key

    def __init__(self, api_key_env: str | None = None, model: str | None = None, max_concurrency: int = 4,
                 requests_per_second: float | None = None, timeout_s: float = 120.0,
                 retry: dict[str, Any] | None = None, keep_voices: bool = False,
                 price: dict[str, Any] | None = None, settings: dict[str, Any] | None = None):
        self.api_key_env = api_key_env or self.default_key_env
        wants_key = self.key_required or os.environ.get(self.api_key_env, "").strip()
        self._key = api_key(self.api_key_env, self.name) if wants_key else None
        self.model = model
        self.max_concurrency = max(1, int(max_concurrency))
        self.limiter = RateLimiter(requests_per_second, burst=self.max_concurrency)
        self.requests_per_second = requests_per_second
        self.timeout_s = float(timeout_s)
        self.retry = RetryPolicy(**(retry or {}))
        self.keep_voices = bool(keep_voices)
        self.price = dict(price or {})
        self.settings = dict(settings or {})  # provider request options that change the audio
        self._voices: dict[str, str] = {}
        self._voice_locks: dict[str, threading.Lock] = {}
        self._voices_lock = threading.Lock()

    # -- provider hooks ----------------------------------------------------------------------

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        raise NotImplementedError

    def create_voice(self, prompt_wav: Path, prompt_text: str | None, language: str, digest: str) -> str:
        raise NotImplementedError

    def delete_voice(self, voice_id: str) -> None:
        raise NotImplementedError

    def sdk_version(self) -> str | None:
        return None

    # -- shared behaviour --------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "provider": self.provider, "model": self.model, "settings": self.settings,
                "sdk_version": self.sdk_version(), "api_key_env": self.api_key_env,
                "max_concurrency": self.max_concurrency, "requests_per_second": self.requests_per_second,
                "retry": {"max_attempts": self.retry.max_attempts, "base_delay_s": self.retry.base_delay_s,
                          "max_delay_s": self.retry.max_delay_s, "budget": self.retry.budget},
                "timeout_s": self.timeout_s, "keep_voices": self.keep_voices, "price": self.price}

    def voice_for(self, request: SynthesisRequest) -> str | None:
        """The provider voice cloned from this prompt clip (made once per distinct clip)."""
        if not self.capabilities.clones_from_audio or request.prompt_wav is None:
            return None
        digest = hashlib.sha256(Path(request.prompt_wav).read_bytes()).hexdigest()
        with self._voices_lock:
            lock = self._voice_locks.setdefault(digest, threading.Lock())
        with lock:
            if digest not in self._voices:
                voice, _ = self.retry.call(lambda: self.create_voice(Path(request.prompt_wav), request.prompt_text,
                                                                     request.language, digest))
                self._voices[digest] = voice
                log.info("%s: created voice %s for prompt %s", self.name, voice, digest[:12])
            return self._voices[digest]

    def _cost(self, text: str) -> float | None:
        per_1k = self.price.get("per_1k_characters")
        return None if per_1k is None else round(len(text) / 1000.0 * float(per_1k), 6)

    def _one(self, request: SynthesisRequest) -> SynthesisResult:
        start = time.perf_counter()
        try:
            voice = self.voice_for(request)

            def attempt() -> Audio:
                self.limiter.acquire()
                return self.request_audio(request, voice)

            audio, attempts = self.retry.call(attempt)
        except ProviderError as exc:
            return SynthesisResult.failed(request.item_id, redact(f"{self.provider}: {exc}"), time.perf_counter() - start)
        except SystemUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - an SDK's unexpected error fails the item, not the run
            return SynthesisResult.failed(request.item_id, redact(f"{self.provider}: {type(exc).__name__}: {exc}"),
                                          time.perf_counter() - start)
        total = time.perf_counter() - start
        meta = {"ttfb_s": audio.ttfb_s, "total_s": total, "attempts": attempts, "characters": len(request.text)}
        cost = self._cost(request.text)
        if cost is not None:
            meta["cost"] = cost
            meta["currency"] = self.price.get("currency", "USD")
        return SynthesisResult(item_id=request.item_id, status="ok", samples=audio.samples,
                               sample_rate=audio.sample_rate, latency_s=total, meta=meta)

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[SynthesisResult]:
        if self.max_concurrency == 1 or len(requests) == 1:
            return [self._one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix=self.name) as pool:
            return list(pool.map(self._one, requests))

    def close(self) -> None:
        if self.keep_voices:
            if self._voices:
                log.info("%s: keeping %d cloned voice(s) (keep_voices: true)", self.name, len(self._voices))
            return
        for digest, voice in sorted(self._voices.items()):
            try:
                self.delete_voice(voice)
            except Exception as exc:  # noqa: BLE001 - report and go on deleting the others
                log.warning("%s: could not delete voice %s: %s", self.name, voice, redact(str(exc)))
        self._voices.clear()


_TRANSPORT_CLASSES = {"TransportError", "TimeoutException", "RequestError", "ConnectionError", "Timeout"}


def is_transport_error(exc: BaseException) -> bool:
    """A timeout or dropped connection, whichever HTTP library raised it (SDKs vendor their own
    copies of httpx, e.g. google-genai's ``httpx2``), so matched by class name along the MRO."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return any(cls.__name__ in _TRANSPORT_CLASSES for cls in type(exc).__mro__)


def http_error(status: int, body: str, headers: dict[str, str] | None = None) -> ProviderError:
    """A ProviderError for an HTTP status, with the provider's message and Retry-After."""
    from systems.api.retry import classify_status

    retry_after = None
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if value and value.replace(".", "", 1).isdigit():
        retry_after = float(value)
    return ProviderError(f"HTTP {status}: {redact(body[:300])}", status, classify_status(status), retry_after)


def capabilities(clones: bool, rate: int | None, languages: Iterable[str] | None = None, seedable: bool = False,
                 needs_prompt_text: bool = False) -> Capabilities:
    return Capabilities(clones_from_audio=clones, needs_prompt_text=needs_prompt_text,
                        languages=frozenset(languages) if languages is not None else None, seedable=seedable,
                        native_sample_rate=rate)


