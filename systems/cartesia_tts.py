"""Cartesia (official SDK ``cartesia``): a voice cloned from each prompt clip, then ``sonic-3.5``
as WAV with 32-bit float PCM (lossless) at the requested rate. SDK retries are off
(``max_retries=0``): the shared policy decides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from systems.api.base import ApiSystem, Audio, capabilities, decode_file, http_error, read_stream, require_package
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest

RATES = (8000, 16000, 22050, 24000, 44100, 48000)


class CartesiaTTS(ApiSystem):
    name = "cartesia"
    provider = "Cartesia"
    default_key_env = "CARTESIA_API_KEY"

    def __init__(self, model: str = "sonic-3.5", sample_rate: int = 44100, base_url: str | None = None,
                 **common: Any):
        self._sdk = require_package("cartesia", "4.0.0", "cartesia", self.name)
        super().__init__(model=model, **common)
        if int(sample_rate) not in RATES:
            raise ValueError(f"cartesia: sample_rate must be one of {RATES}")
        from cartesia import Cartesia

        self.client = Cartesia(api_key=self._key, base_url=base_url, max_retries=0, timeout=self.timeout_s)
        self.sample_rate, self.base_url = int(sample_rate), base_url
        self.capabilities = capabilities(clones=True, rate=self.sample_rate)

    def sdk_version(self) -> str | None:
        return f"cartesia=={self._sdk}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "sample_rate": self.sample_rate, "encoding": "pcm_f32le",
                "container": "wav", "base_url": self.base_url}

    def _call(self, fn):
        import cartesia

        try:
            return fn()
        except cartesia.APIStatusError as exc:
            raise http_error(exc.status_code, str(exc.body), dict(exc.response.headers)) from None
        except cartesia.APIConnectionError as exc:  # includes timeouts
            raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None

    def create_voice(self, prompt_wav: Path, prompt_text: str | None, language: str, digest: str) -> str:
        data = prompt_wav.read_bytes()
        voice = self._call(lambda: self.client.voices.clone(
            clip=(prompt_wav.name, data, "application/octet-stream"), name=f"ztts1-eval {digest[:12]}",
            language=language))
        return voice.id

    def delete_voice(self, voice_id: str) -> None:
        self._call(lambda: self.client.voices.delete(voice_id))

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        start = time.perf_counter()

        def fetch():
            with self.client.tts.with_streaming_response.generate(
                    model_id=self.model, transcript=request.text, voice={"id": voice}, language=request.language,
                    output_format={"container": "wav", "encoding": "pcm_f32le", "sample_rate": self.sample_rate},
                    **self.settings) as response:
                return read_stream(response.iter_bytes(), start)

        data, ttfb = self._call(fetch)
        samples, rate = decode_file(data)
        return Audio(samples, rate, ttfb)
