"""Explicit registry of TTS systems: ``name -> "module:Class"``, imported lazily."""

from __future__ import annotations

from typing import Any

from systems.base import TTSSystem
from ztts1_eval.core.registry import resolve

SYSTEMS: dict[str, str] = {
    "ground_truth": "systems.ground_truth:GroundTruth",
    "codec_resynthesis": "systems.codec_resynthesis:CodecResynthesis",
    "flite": "systems.flite:Flite",
    "espeak": "systems.espeak:Espeak",
    "piper": "systems.piper:Piper",
    "zonos2": "systems.zonos2:Zonos2",
    "zonos2_server": "systems.zonos2_server:Zonos2Server",
    "openai_speech": "systems.openai_speech:OpenAISpeech",
    "elevenlabs": "systems.elevenlabs_tts:ElevenLabsTTS",
    "cartesia": "systems.cartesia_tts:CartesiaTTS",
    "zyphra": "systems.zyphra_cloud:ZyphraCloud",
    "gemini": "systems.gemini_tts:GeminiTTS",
    "fish_audio": "systems.fish_audio:FishAudioTTS",
    "inworld": "systems.inworld_tts:InworldTTS",
    "fish_speech": "systems.fish_speech:FishSpeechServer",
    "qwen3_tts": "systems.qwen3_tts:Qwen3TTS",
    "voxcpm2": "systems.voxcpm2:VoxCPM2",
}


def create(system_type: str, options: dict[str, Any] | None = None) -> TTSSystem:
    cls = resolve(SYSTEMS, system_type, "system", group="systems")
    return cls(**(options or {}))
