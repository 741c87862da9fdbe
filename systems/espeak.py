"""eSpeak NG (Debian ``espeak-ng``): robotic but multilingual formant synthesis.

Japanese is left out on purpose: espeak-ng reads kana only, and the benchmark's Japanese
text is mostly kanji, which it spells out as "Chinese letter"."""

from __future__ import annotations

from typing import Any

from systems._command import binary_version, require_binary, synthesize_to_wav
from systems.base import Capabilities, SynthesisRequest, SynthesisResult, TTSSystem

# Benchmark language code -> espeak-ng voice.
VOICE_BY_LANGUAGE = {
    "ar": "ar", "cs": "cs", "de": "de", "en": "en-us", "es": "es", "fa": "fa", "fr": "fr-fr",
    "hi": "hi", "hu": "hu", "id": "id", "it": "it", "ko": "ko", "ms": "ms", "nl": "nl",
    "pl": "pl", "pt": "pt", "ro": "ro", "ru": "ru", "sv": "sv", "th": "th", "tr": "tr",
    "uk": "uk", "vi": "vi", "yue": "yue", "zh": "cmn",
}


class Espeak(TTSSystem):
    name = "espeak"
    thread_safe = True  # one program run per request, each in its own temporary folder
    capabilities = Capabilities(
        clones_from_audio=False,
        needs_prompt_text=False,
        languages=frozenset(VOICE_BY_LANGUAGE),
        seedable=True,  # deterministic
        native_sample_rate=22050,
    )

    def __init__(self, words_per_minute: int = 160, variant: str | None = None, timeout_s: float = 120.0):
        self.binary = require_binary("espeak-ng", "espeak-ng")
        self.words_per_minute = int(words_per_minute)
        self.variant = variant
        self.timeout_s = timeout_s

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "voices": VOICE_BY_LANGUAGE,
            "variant": self.variant,
            "words_per_minute": self.words_per_minute,
            "binary": self.binary,
            "version": binary_version([self.binary, "--version"]),
        }

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        voice = VOICE_BY_LANGUAGE[request.language]
        if self.variant:
            voice = f"{voice}+{self.variant}"
        # "--" ends options, so a text starting with "-" is spoken, not parsed.
        argv = [self.binary, "-v", voice, "-s", str(self.words_per_minute), "-w", "{out}", "--", request.text]
        return synthesize_to_wav(request.item_id, argv, self.timeout_s)
