"""ElevenLabs (official SDK ``elevenlabs``): an instant voice clone of each prompt clip, then
``eleven_v3`` text to speech as raw PCM (``pcm_<rate>``: 16-bit mono) or WAV: lossless.

``voice: <voice id>`` runs a preset voice instead (no cloning), as the ZONOS2 report ran it: its
speaker similarity is then a preset voice's ("Spk. sim.*"), set only beside the report's own.

The SDK's own retries are turned off on every call (``max_retries: 0``; its retry of a voice
clone also drops the form fields), so the shared policy (backoff, jitter, budget) is the only one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from systems.api.base import (ApiSystem, Audio, capabilities, decode_file, decode_pcm16, http_error,
                              is_transport_error, read_stream, require_package)
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest, SystemUnavailable

NO_SDK_RETRIES = {"max_retries": 0}


class ElevenLabsTTS(ApiSystem):
    name = "elevenlabs"
    provider = "ElevenLabs"
    default_key_env = "ELEVENLABS_API_KEY"

    def __init__(self, model: str = "eleven_v3", output_format: str = "pcm_24000", base_url: str | None = None,
                 send_language: bool = True, remove_background_noise: bool = False, voice: str | None = None,
                 **common: Any):
        self._sdk = require_package("elevenlabs", "2.0.0", "elevenlabs", self.name)
        super().__init__(model=model, **common)
        kind, _, rate = output_format.partition("_")
        if kind not in ("pcm", "wav") or not rate.isdigit():
            raise SystemUnavailable(f"elevenlabs: output_format {output_format!r} is not lossless (pcm_<rate> or wav_<rate>)")
        from elevenlabs import ElevenLabs

        self.client = ElevenLabs(api_key=self._key, base_url=base_url, timeout=self.timeout_s)
        self.output_format, self.base_url = output_format, base_url
        self.send_language, self.remove_background_noise = bool(send_language), bool(remove_background_noise)
        self.voice = voice or None  # a preset voice id: no cloning
        self.capabilities = capabilities(clones=self.voice is None, rate=int(rate), seedable=True)

    def sdk_version(self) -> str | None:
        return f"elevenlabs=={self._sdk}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "output_format": self.output_format, "send_language": self.send_language,
                "remove_background_noise": self.remove_background_noise, "base_url": self.base_url,
                "voice": self.voice, "mode": "preset voice" if self.voice else "instant voice clone"}

    def _call(self, fn):
        from elevenlabs.core import ApiError

        try:
            return fn()
        except ApiError as exc:
            raise http_error(exc.status_code or 0, str(exc.body), dict(exc.headers or {})) from None
        except Exception as exc:  # noqa: BLE001 - timeouts / resets from whichever HTTP library
            if not is_transport_error(exc):
                raise
            raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None

    def create_voice(self, prompt_wav: Path, prompt_text: str | None, language: str, digest: str) -> str:
        data = prompt_wav.read_bytes()
        created = self._call(lambda: self.client.voices.ivc.create(
            name=f"ztts1-eval {digest[:12]}", files=[(prompt_wav.name, data, "application/octet-stream")],
            remove_background_noise=self.remove_background_noise, request_options=NO_SDK_RETRIES))
        return created.voice_id

    def delete_voice(self, voice_id: str) -> None:
        self._call(lambda: self.client.voices.delete(voice_id, request_options=NO_SDK_RETRIES))

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        options = dict(self.settings)
        if self.send_language:
            options.setdefault("language_code", request.language)
        start = time.perf_counter()

        def fetch():
            chunks = self.client.text_to_speech.convert(
                voice or self.voice, text=request.text, model_id=self.model, output_format=self.output_format, seed=request.seed,
                request_options=NO_SDK_RETRIES, **options)
            return read_stream(chunks, start)  # the SDK sends the request when iterated

        data, ttfb = self._call(fetch)
        if self.output_format.startswith("pcm_"):
            rate = self.capabilities.native_sample_rate
            return Audio(decode_pcm16(data, rate), rate, ttfb)
        samples, rate = decode_file(data)
        return Audio(samples, rate, ttfb)
