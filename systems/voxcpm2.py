"""VoxCPM2 (``voxcpm``) through a model worker: the prompt clip and its transcript as a
continuation prompt, 48 kHz, seeded per item; its automatic "bad case" regeneration is off and
recorded (see :mod:`systems.workers.voxcpm2`).

``voxcpm`` depends on torchaudio, gradio, modelscope and funasr for its demo, training and
denoiser; the worker needs none of them, so ``make worker-env`` installs it without them."""

from __future__ import annotations

from typing import Any

from systems.base import Capabilities
from systems.worker_system import WorkerSystem


class VoxCPM2(WorkerSystem):
    name = "voxcpm2"
    worker_module = "systems.workers.voxcpm2"
    install_hint = ("Install it into the worker's environment: pip install 'voxcpm>=2.0.0' "
                    "(or `make worker-env`, then system.options.python=.venv-workers/bin/python); the weights "
                    "come from system.options.model (hub id at system.options.revision, or a local directory).")

    def __init__(self, model: str = "openbmb/VoxCPM2", optimize: bool = False, **common: Any):
        common.setdefault("dtype", None)  # the checkpoint's config decides
        super().__init__(model=model, optimize=optimize, **common)

    def capabilities_from(self, info: dict[str, Any]) -> Capabilities:
        # with the prompt transcript the prompt is a continuation prompt (the worker's prompt_mode)
        return Capabilities(clones_from_audio=True, needs_prompt_text=False, languages=None, seedable=True,
                            native_sample_rate=int(info["sample_rate"]), continues_prompt=True)
