"""Fish Audio (official SDK ``fish-audio-sdk``, client ``fishaudio``): the prompt clip and its
transcript go with each request as a reference (no stored voice), model ``s2-pro``, WAV output.
The SDK does not retry; the shared policy does."""

from __future__ import annotations

import time
from typing import Any

from systems.api.base import ApiSystem, Audio, capabilities, decode_file, http_error, is_transport_error, require_package
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest, SystemUnavailable


class FishAudioTTS(ApiSystem):
    name = "fish_audio"
    provider = "Fish Audio"
    default_key_env = "FISH_AUDIO_API_KEY"

    def __init__(self, model: str = "s2-pro", base_url: str = "https://api.fish.audio", **common: Any):
        self._sdk = require_package("fish-audio-sdk", "1.0.0", "fish", self.name)
        super().__init__(model=model, **common)
        from fishaudio import FishAudio
        from fishaudio.types import TTSConfig

        # The SDK sends every TTSConfig field with each request (its defaults included: temperature,
        # top_p, normalize, chunk_length, ...), so build it here and record what is sent.
        known = set(TTSConfig.model_fields) - {"references", "reference_id", "format"}
        unknown = set(self.settings) - known
        if unknown:
            raise SystemUnavailable(f"fish_audio: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        try:
            self.config = TTSConfig(**{**self.settings, "format": "wav"})
        except ValueError as exc:  # pydantic's ValidationError
            raise SystemUnavailable(f"fish_audio: invalid settings: {exc}") from None
        self.client = FishAudio(api_key=self._key, base_url=base_url, timeout=self.timeout_s)
        self.base_url = base_url
        self.capabilities = capabilities(clones=True, rate=None, needs_prompt_text=True)

    def sdk_version(self) -> str | None:
        return f"fish-audio-sdk=={self._sdk}"

    def describe(self) -> dict[str, Any]:
        sent = self.config.model_dump(mode="json", exclude={"references", "reference_id"})
        return {**super().describe(), "format": "wav", "base_url": self.base_url, "request_config": sent}

    def voice_for(self, request: SynthesisRequest) -> str | None:
        return None  # references travel with each request

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        from fishaudio import APIError, ReferenceAudio

        references = []
        if request.prompt_wav is not None:
            references.append(ReferenceAudio(audio=request.prompt_wav.read_bytes(), text=request.prompt_text or ""))
        start = time.perf_counter()
        try:
            data = self.client.tts.convert(text=request.text, references=references, config=self.config,
                                           model=self.model)
        except APIError as exc:
            raise http_error(int(getattr(exc, "status", 0) or 0), str(getattr(exc, "message", exc))) from None
        except Exception as exc:  # noqa: BLE001 - timeouts / resets from whichever HTTP library
            if not is_transport_error(exc):
                raise
            raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        samples, rate = decode_file(data)
        return Audio(samples, rate, time.perf_counter() - start)  # the SDK reads the body whole
