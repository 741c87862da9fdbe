"""CMU Flite (Debian ``flite``): intelligible English from several built-in voices.

It cannot clone: the voice is a fixed option, so its similarity is to a preset voice."""

from __future__ import annotations

from typing import Any

from systems._command import binary_version, require_binary, synthesize_to_wav
from systems.base import Capabilities, SynthesisRequest, SynthesisResult, TTSSystem

VOICES = ("slt", "rms", "awb", "kal", "kal16", "awb_time")


class Flite(TTSSystem):
    name = "flite"
    thread_safe = True  # one program run per request, each in its own temporary folder
    capabilities = Capabilities(
        clones_from_audio=False,
        needs_prompt_text=False,
        languages=frozenset({"en"}),
        seedable=True,  # deterministic
        native_sample_rate=16000,
    )

    def __init__(self, voice: str = "slt", timeout_s: float = 120.0):
        if voice not in VOICES:
            raise ValueError(f"flite voice {voice!r} is not built in; choose one of {VOICES}")
        self.binary = require_binary("flite", "flite")
        self.voice = voice
        self.timeout_s = timeout_s

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "voice": self.voice,
            "binary": self.binary,
            "version": binary_version([self.binary, "--version"]),
        }

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        # Text goes through argv (no shell), so quotes and metacharacters are safe.
        argv = [self.binary, "-voice", self.voice, "-t", request.text, "-o", "{out}"]
        return synthesize_to_wav(request.item_id, argv, self.timeout_s)
