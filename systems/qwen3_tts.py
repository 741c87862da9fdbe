"""Qwen3-TTS Base (``qwen-tts``) through a model worker: voice cloning from the prompt clip and
its transcript, 24 kHz, seeded per item.

``qwen-tts`` pins ``transformers==4.57.3`` while the paper scorers need transformers 5, so the
usual set-up is a separate virtualenv named by ``python`` (``make worker-env``); with
``python: null`` it runs in this interpreter."""

from __future__ import annotations

from typing import Any

from systems.base import Capabilities
from systems.worker_system import WorkerSystem


class Qwen3TTS(WorkerSystem):
    name = "qwen3_tts"
    worker_module = "systems.workers.qwen3_tts"
    install_hint = ("Install it into the worker's environment: pip install 'qwen-tts>=0.1.1' "
                    "(or `make worker-env`, then system.options.python=.venv-workers/bin/python); the weights "
                    "come from system.options.model (hub id at system.options.revision, or a local directory).")

    def __init__(self, model: str = "Qwen/Qwen3-TTS-12Hz-1.7B-Base", x_vector_only_mode: bool = False,
                 non_streaming_mode: bool = False, attn_implementation: str | None = None, **common: Any):
        super().__init__(model=model, x_vector_only_mode=x_vector_only_mode, non_streaming_mode=non_streaming_mode,
                         attn_implementation=attn_implementation, **common)

    def capabilities_from(self, info: dict[str, Any]) -> Capabilities:
        in_context = not info.get("x_vector_only_mode")  # ICL: the prompt's codes and text, continued
        return Capabilities(clones_from_audio=True, needs_prompt_text=in_context,
                            languages=frozenset(info["languages"]), seedable=True,
                            native_sample_rate=int(info["sample_rate"]), continues_prompt=in_context)
