"""Gemini TTS (official SDK ``google-genai``): a preset voice, no cloning, so tables mark its
similarity with the paper's asterisk. Audio comes back inline: 16-bit PCM (``audio/L16;...;rate=N``)
or WAV, both lossless. The SDK makes one attempt per call by default; the shared policy retries."""

from __future__ import annotations

import re
import time
from typing import Any

from systems.api.base import (ApiSystem, Audio, capabilities, decode_file, decode_pcm16, http_error,
                              is_transport_error, require_package)
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest


class GeminiTTS(ApiSystem):
    name = "gemini"
    provider = "Google Gemini"
    default_key_env = "GEMINI_API_KEY"

    def __init__(self, model: str = "gemini-3.1-flash-tts-preview", voice: str = "Kore", base_url: str | None = None,
                 api_version: str = "v1beta", send_seed: bool = True, **common: Any):
        self._sdk = require_package("google-genai", "1.20.0", "gemini", self.name)
        super().__init__(model=model, **common)
        from google import genai
        from google.genai import types

        options = types.HttpOptions(api_version=api_version, base_url=base_url, timeout=int(self.timeout_s * 1000))
        self.client, self.types = genai.Client(api_key=self._key, http_options=options), types
        self.voice, self.base_url, self.api_version, self.send_seed = voice, base_url, api_version, bool(send_seed)
        self.capabilities = capabilities(clones=False, rate=None, seedable=self.send_seed)

    def sdk_version(self) -> str | None:
        return f"google-genai=={self._sdk}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "voice": self.voice, "base_url": self.base_url, "api_version": self.api_version,
                "send_seed": self.send_seed}

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        from google.genai import errors

        types = self.types
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"], seed=request.seed if self.send_seed else None,
            speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=self.voice))), **self.settings)
        start = time.perf_counter()
        try:
            response = self.client.models.generate_content(model=self.model, contents=request.text, config=config)
        except errors.APIError as exc:
            raise http_error(int(exc.code or 0), str(exc.message)) from None
        except Exception as exc:  # noqa: BLE001 - timeouts / resets from whichever HTTP library
            if not is_transport_error(exc):
                raise
            raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        total = time.perf_counter() - start
        try:
            part = response.candidates[0].content.parts[0].inline_data
        except (AttributeError, IndexError, TypeError):
            raise ProviderError("malformed audio: the response has no inline audio part") from None
        mime, data = (part.mime_type or "").lower(), part.data or b""
        rate = re.search(r"rate=(\d+)", mime)
        if mime.startswith("audio/l16") or mime.startswith("audio/pcm"):
            sample_rate = int(rate.group(1)) if rate else 24000
            return Audio(decode_pcm16(data, sample_rate), sample_rate, total)
        samples, sample_rate = decode_file(data)
        return Audio(samples, sample_rate, total)  # unary call: first byte = whole response
