"""ZONOS2 through an official ZONOS2 HTTP server (``POST /tts/generate``), so the official
GPU runner can be evaluated with the same pipeline as ours (reference §6).

The response is headerless float32 little-endian mono PCM at 44.1 kHz. The server accepts only
its normalizer languages; other languages are sent with ``text_normalization: false`` and the
``en_us`` code, as the official README advises."""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np

from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem

# Benchmark language -> server language code (the server's normalizer languages).
SERVER_LANGUAGES = {"en": "en_us", "fr": "fr_fr", "de": "de", "es": "es", "it": "it", "pt": "pt_br",
                    "ja": "ja", "zh": "cmn", "ko": "ko"}
# 500 is the server's embedder failure: deterministic, so not retried.
RETRY_STATUS = {429, 502, 503, 504}


class Zonos2Server(TTSSystem):
    name = "zonos2_server"

    def __init__(self, url: str = "http://127.0.0.1:1919", timeout_s: float = 300.0, max_retries: int = 4,
                 backoff_s: float = 2.0, text_normalization: bool = True, request: dict[str, Any] | None = None):
        try:
            import requests
        except ImportError as exc:
            raise SystemUnavailable("zonos2_server needs requests: pip install requests") from exc
        self._http = requests.Session()
        self.url = url.rstrip("/")
        self.timeout_s, self.max_retries, self.backoff_s = timeout_s, max_retries, backoff_s
        self.text_normalization = text_normalization
        self.extra = dict(request or {})  # e.g. accurate_mode, clean_speaker_background, temperature
        self.capabilities = Capabilities(clones_from_audio=True, needs_prompt_text=False, languages=None,
                                         seedable=True, native_sample_rate=44100)
        try:
            self.server_info = self._http.get(f"{self.url}/tts/capabilities", timeout=30).json()
        except Exception as exc:
            raise SystemUnavailable(f"zonos2_server: no ZONOS2 server answers at {self.url} ({exc})") from exc

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "url": self.url, "server_capabilities": self.server_info,
                "text_normalization": self.text_normalization, "request": self.extra}

    def _payload(self, request: SynthesisRequest) -> dict[str, Any]:
        language = SERVER_LANGUAGES.get(request.language)
        payload = {
            "text": request.text,
            "language": language or "en_us",
            "text_normalization": bool(self.text_normalization and language),
            "seed": request.seed,
            "stream": False,
            **self.extra,
        }
        if request.prompt_wav is not None:
            payload["speaker_audio_base64"] = base64.b64encode(request.prompt_wav.read_bytes()).decode("ascii")
            payload["speaker_audio_name"] = request.prompt_wav.name
        return payload

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        payload = self._payload(request)
        start = time.perf_counter()
        for attempt in range(self.max_retries + 1):
            try:
                response = self._http.post(f"{self.url}/tts/generate", json=payload, timeout=self.timeout_s)
            except Exception as exc:  # connection reset, timeout
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return self._parse(request, response, time.perf_counter() - start)
                error = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUS:
                    return SynthesisResult.failed(request.item_id, error, time.perf_counter() - start)
                retry_after = response.headers.get("Retry-After")
                if retry_after and retry_after.replace(".", "", 1).isdigit():
                    time.sleep(min(float(retry_after), 60.0))
                    continue
            if attempt < self.max_retries:
                time.sleep(self.backoff_s * 2 ** attempt)
        return SynthesisResult.failed(request.item_id, f"gave up after {self.max_retries + 1} attempts: {error}",
                                      time.perf_counter() - start)

    def _parse(self, request: SynthesisRequest, response, latency: float) -> SynthesisResult:
        rate = int(response.headers.get("X-Audio-Sample-Rate", 44100))
        fmt = response.headers.get("X-Audio-Format", "float32")
        if fmt != "float32" or response.headers.get("X-Audio-Channels", "1") != "1":
            return SynthesisResult.failed(request.item_id, f"unexpected audio format {fmt!r} from server", latency)
        body = response.content
        if len(body) % 4:
            return SynthesisResult.failed(request.item_id, f"truncated PCM body ({len(body)} bytes)", latency)
        samples = np.frombuffer(body, dtype="<f4").astype(np.float32)
        return SynthesisResult(item_id=request.item_id, status="ok", samples=samples, sample_rate=rate,
                               latency_s=latency)
