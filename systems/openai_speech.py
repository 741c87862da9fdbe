"""Any OpenAI-compatible speech endpoint (``POST {base_url}/audio/speech``): OpenAI itself and the
many servers that copy its protocol. Plain HTTP (requests), so no SDK version decides the wire
format. The voice is a preset name (no cloning: similarity shows with the paper's asterisk);
audio is requested as WAV (lossless) unless ``response_format: pcm`` (16-bit mono at
``pcm_sample_rate``)."""

from __future__ import annotations

import time
from typing import Any

from systems.api.base import (ApiSystem, Audio, body_chunks, capabilities, decode_file, decode_pcm16, http_error,
                              read_stream)
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest, SystemUnavailable


class OpenAISpeech(ApiSystem):
    name = "openai_speech"
    provider = "openai-compatible"
    default_key_env = "OPENAI_API_KEY"

    def __init__(self, base_url: str = "https://api.openai.com/v1", model: str = "gpt-4o-mini-tts",
                 voice: str = "alloy", response_format: str = "wav", pcm_sample_rate: int = 24000,
                 languages: list[str] | None = None, **common: Any):
        try:
            import requests
        except ImportError as exc:
            raise SystemUnavailable("openai_speech needs requests: pip install -e '.[api]'") from exc
        super().__init__(model=model, **common)
        if response_format not in ("wav", "pcm", "flac"):
            raise SystemUnavailable(f"openai_speech: response_format {response_format!r} is lossy or unknown; "
                                    f"use wav, flac or pcm")
        self.base_url, self.voice, self.response_format = base_url.rstrip("/"), voice, response_format
        self.pcm_sample_rate = int(pcm_sample_rate)
        self._http = requests.Session()
        self._requests = requests
        self.capabilities = capabilities(clones=False, rate=self.pcm_sample_rate if response_format == "pcm" else None,
                                         languages=languages)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": self.base_url, "voice": self.voice,
                "response_format": self.response_format}

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        body = {"model": self.model, "input": request.text, "voice": self.voice,
                "response_format": self.response_format, **self.settings}
        start = time.perf_counter()
        try:
            response = self._http.post(f"{self.base_url}/audio/speech", json=body, stream=True,
                                       timeout=self.timeout_s, headers={"Authorization": f"Bearer {self._key}"})
            if response.status_code != 200:
                raise http_error(response.status_code, response.text, dict(response.headers))
            data, ttfb = read_stream(body_chunks(response), start)
        except self._requests.RequestException as exc:  # timeouts, resets: worth another try
            raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        if self.response_format == "pcm":
            return Audio(decode_pcm16(data, self.pcm_sample_rate), self.pcm_sample_rate, ttfb)
        samples, rate = decode_file(data)
        return Audio(samples, rate, ttfb)

    def sdk_version(self) -> str | None:
        return f"requests=={self._requests.__version__}"
