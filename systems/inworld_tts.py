"""Inworld TTS (official SDK ``inworld-tts``): a voice cloned from each prompt clip (with its
transcript), then synthesis with the model given explicitly (``inworld-tts-2``; the SDK's default
is another model) as LINEAR16 at 48 kHz: lossless. SDK retries off (``max_retries=0``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from systems.api.base import ApiSystem, Audio, capabilities, decode_file, decode_pcm16, http_error, require_package
from systems.api.retry import ProviderError
from systems.base import SynthesisRequest, SystemUnavailable

# benchmark language -> the clone API's langCode; others: `default_clone_lang`.
CLONE_LANGUAGES = {"en": "EN_US", "zh": "ZH_CN", "ja": "JA_JP", "ko": "KO_KR", "de": "DE_DE", "fr": "FR_FR",
                   "es": "ES_ES", "it": "IT_IT", "pt": "PT_BR", "ru": "RU_RU", "pl": "PL_PL", "nl": "NL_NL",
                   "hi": "HI_IN", "ar": "AR_SA", "he": "HE_IL"}


class InworldTTS(ApiSystem):
    name = "inworld"
    provider = "Inworld"
    default_key_env = "INWORLD_API_KEY"

    def __init__(self, model: str = "inworld-tts-2", sample_rate: int = 48000, base_url: str | None = None,
                 default_clone_lang: str = "EN_US", **common: Any):
        self._sdk = require_package("inworld-tts", "1.0.0", "inworld", self.name)
        super().__init__(model=model, **common)
        import inworld_tts

        self.client = inworld_tts.InworldTTS(api_key=self._key, base_url=base_url, timeout=int(self.timeout_s),
                                             max_retries=0)
        self.sample_rate, self.base_url, self.default_clone_lang = int(sample_rate), base_url, default_clone_lang
        self.request_settings = self._request_settings()
        self.capabilities = capabilities(clones=True, rate=self.sample_rate, needs_prompt_text=True)

    def _request_settings(self) -> dict[str, Any]:
        """Every argument ``generate`` sends, the SDK's defaults included (it sends
        ``temperature`` and ``speaking_rate`` even when unset), so the results say what ran."""
        import inspect

        skip = {"self", "text", "voice", "output_file", "play"}
        signature = inspect.signature(self.client.generate)
        fixed = {"model", "encoding", "sample_rate"}  # options of their own; LINEAR16 is what we decode
        unknown = set(self.settings) - (set(signature.parameters) - skip - fixed)
        if unknown:
            raise SystemUnavailable(f"inworld: settings {sorted(unknown)} are unknown or fixed "
                                    "(model and sample_rate are options of their own; the encoding is LINEAR16)")
        defaults = {name: param.default for name, param in signature.parameters.items()
                    if name not in skip and param.default is not inspect.Parameter.empty}
        return {**defaults, "model": self.model, "encoding": "LINEAR16", "sample_rate": self.sample_rate, **self.settings}

    def sdk_version(self) -> str | None:
        return f"inworld-tts=={self._sdk}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "encoding": "LINEAR16", "sample_rate": self.sample_rate, "base_url": self.base_url,
                "clone_languages": CLONE_LANGUAGES, "default_clone_lang": self.default_clone_lang,
                "request_settings": self.request_settings}

    def _call(self, fn):
        import inworld_tts

        try:
            return fn()
        except inworld_tts.ApiError as exc:
            raise http_error(int(getattr(exc, "code", 0) or 0), str(getattr(exc, "message", exc))) from None
        except inworld_tts.NetworkError as exc:
            raise ProviderError(f"NetworkError: {exc}", retryable=True) from None
        except Exception as exc:  # the SDK lets some raw transport errors through
            import requests

            if isinstance(exc, requests.RequestException):
                raise ProviderError(f"{type(exc).__name__}: {exc}", retryable=True) from None
            raise

    def create_voice(self, prompt_wav: Path, prompt_text: str | None, language: str, digest: str) -> str:
        result = self._call(lambda: self.client.clone_voice(
            [prompt_wav.read_bytes()], display_name=f"ztts1-eval {digest[:12]}",
            lang=CLONE_LANGUAGES.get(language, self.default_clone_lang),
            transcriptions=[prompt_text] if prompt_text else None))
        voice = (result.get("voice") or {}).get("voiceId") if isinstance(result, dict) else None
        if not voice:
            raise ProviderError(f"clone response without a voice id: {result!r}")
        return voice

    def delete_voice(self, voice_id: str) -> None:
        self._call(lambda: self.client.delete_voice(voice_id))

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        start = time.perf_counter()
        data = self._call(lambda: self.client.generate(request.text, voice=voice, **self.request_settings))
        total = time.perf_counter() - start
        if data[:4] == b"RIFF":
            samples, rate = decode_file(data)
            return Audio(samples, rate, total)
        return Audio(decode_pcm16(data, self.sample_rate), self.sample_rate, total)
