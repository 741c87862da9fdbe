"""Saved voices for the server, as the official ZONOS2 server keeps them (reference §6):
default voices from a folder, voices a client caches for its session (``POST /tts/speakers``
with an ``X-TTS-Session-ID`` header), and SLERP blends of two of them.

Ours, where the reference is silent: ids are ``default_`` + the first 16 hex digits of the
file's SHA-256 (stable across restarts) and ``spk_`` + 12 random hex digits; a session keeps at
most ``MAX_VOICES_PER_SESSION`` voices; a preview is the reference audio as sent (WAV)."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

MAX_VOICES_PER_SESSION = 64
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


@dataclass(frozen=True)
class Voice:
    id: str
    label: str
    source_type: str  # "audio" | "embedding"
    embedding: torch.Tensor
    preview: tuple[np.ndarray, int] | None = None  # the reference audio, when the voice came from audio

    def describe(self) -> dict:
        return {"id": self.id, "label": self.label, "source_type": self.source_type,
                "dimension": int(self.embedding.numel()), "has_preview": self.preview is not None}


def slerp(a: torch.Tensor, b: torch.Tensor, t: float = 0.5) -> torch.Tensor:
    """Spherical interpolation from a (t=0) to b (t=1) along the angle between their directions;
    nearly parallel vectors are interpolated linearly."""
    cos = float(torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12))
    omega = math.acos(max(-1.0, min(1.0, cos)))
    if math.sin(omega) < 1e-6:
        return (1 - t) * a + t * b
    return (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)


class VoiceStore:
    """Default voices (shared) and per-session voices; thread-safe."""

    def __init__(self, defaults: list[Voice] | None = None):
        self.defaults = {voice.id: voice for voice in defaults or []}
        self.sessions: dict[str, dict[str, Voice]] = {}
        self.lock = threading.Lock()

    @classmethod
    def from_dir(cls, directory: str | Path | None, embed_audio: Callable[[np.ndarray, int], torch.Tensor] | None,
                 load_embedding: Callable[[Path], torch.Tensor]) -> "VoiceStore":
        """One default voice per audio file (needs the speaker encoder) or .npy/.npz embedding."""
        voices = []
        for path in sorted(Path(directory).iterdir()) if directory else []:
            suffix = path.suffix.lower()
            if suffix not in AUDIO_SUFFIXES + (".npy", ".npz"):
                continue
            voice_id = "default_" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            if suffix in (".npy", ".npz"):
                voices.append(Voice(voice_id, path.stem, "embedding", load_embedding(path)))
                continue
            if embed_audio is None:
                raise ValueError(f"default voice {path.name} is audio: start the server with --speaker-encoder")
            import soundfile as sf

            samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
            audio = (samples.mean(axis=1), int(rate))
            voices.append(Voice(voice_id, path.stem, "audio", embed_audio(*audio), audio))
        return cls(voices)

    def add(self, session: str, label: str, embedding: torch.Tensor, preview: tuple[np.ndarray, int] | None) -> Voice:
        with self.lock:
            voices = self.sessions.setdefault(session, {})
            if len(voices) >= MAX_VOICES_PER_SESSION:
                raise ValueError(f"this session already holds {MAX_VOICES_PER_SESSION} voices")
            voice = Voice("spk_" + secrets.token_hex(6), label, "audio" if preview else "embedding", embedding, preview)
            voices[voice.id] = voice
            return voice

    def get(self, voice_id: str, session: str | None) -> Voice:
        with self.lock:
            voice = self.defaults.get(voice_id) or self.sessions.get(session or "", {}).get(voice_id)
        if voice is None:
            raise KeyError(f"unknown speaker_embedding_id {voice_id!r}"
                           + ("" if session else " (session voices need the X-TTS-Session-ID header)"))
        return voice

    def listing(self, session: str | None) -> list[dict]:
        with self.lock:
            session_voices = list(self.sessions.get(session or "", {}).values())
        return [voice.describe() for voice in [*self.defaults.values(), *session_voices]]
