"""Worker for VoxCPM2 (``voxcpm``; ``openbmb/VoxCPM2``), 48 kHz.

The prompt clip with its transcript is a continuation prompt (``prompt_wav_path`` +
``prompt_text``); a clip without transcript becomes a reference voice (``reference_wav_path``,
VoxCPM2 only). The package's automatic regeneration of "bad cases" (output far longer than the
text) is off by default (``retry_badcase: false``): it silently re-samples, which would hide
exactly the failures a benchmark measures. Text normalization and the prompt denoiser are off
too; all three are recorded. Run by :class:`systems.voxcpm2.VoxCPM2` as
``python -m systems.workers.voxcpm2``."""

from __future__ import annotations

import sys
import time
from typing import Any

from systems.workers.serve import (pick_device, placeholder_modules, require, resolve_model, seed_everything, serve,
                                   set_threads, versions, weight_checksums)

# VoxCPM2's generate() defaults, written out so results record what ran
DEFAULT_GENERATION = {"cfg_value": 2.0, "inference_timesteps": 10, "min_len": 2, "max_len": 4096,
                      "normalize": False, "denoise": False, "retry_badcase": False,
                      "retry_badcase_max_times": 3, "retry_badcase_ratio_threshold": 6.0}
MIN_VERSION = "2.0.0"


class VoxCPM2Engine:
    settings = {"optimize"}

    def __init__(self, settings: dict[str, Any]):
        require("voxcpm", MIN_VERSION)
        stand_ins = placeholder_modules(["torchaudio.functional"])
        from voxcpm import VoxCPM
        from voxcpm.model.voxcpm2 import VoxCPM2Model

        if settings.get("dtype") not in (None, "", "auto"):
            raise ValueError("VoxCPM2 takes its dtype from the checkpoint's config.json; leave dtype unset")
        threads = set_threads(settings.get("threads"))
        self.device = pick_device(settings.get("device"))
        path, commit = resolve_model(settings["model"], settings.get("revision"))
        optimize = bool(settings.get("optimize", False))
        self.tts = VoxCPM(voxcpm_model_path=path, zipenhancer_model_path=None, enable_denoiser=False,
                          optimize=optimize, device=self.device)
        if not isinstance(self.tts.tts_model, VoxCPM2Model):
            raise ValueError(f"{path} is not a VoxCPM2 checkpoint (config.json architecture)")
        check_all_weights_loaded(self.tts.tts_model, path)
        unknown = set(settings.get("generation") or {}) - set(DEFAULT_GENERATION)
        if unknown:
            raise ValueError(f"unknown VoxCPM2 generation settings {sorted(unknown)}; known: {sorted(DEFAULT_GENERATION)}")
        self.generation = {**DEFAULT_GENERATION, **(settings.get("generation") or {})}
        if self.generation["retry_badcase_max_times"] < 1:
            raise ValueError("retry_badcase_max_times must be >= 1 (voxcpm 2.0.3 fails with 0 even when retry is off)")
        if self.generation["denoise"]:
            raise ValueError("denoise needs the ZipEnhancer model, which this worker does not load")
        self.sample_rate = int(self.tts.tts_model.sample_rate)
        self.info = {
            "packages": versions("voxcpm", "torch", "transformers"),
            "model": settings["model"], "revision": settings.get("revision"), "resolved_path": path,
            "resolved_commit": commit, "device": self.device, "dtype": str(self.tts.tts_model._dtype()),
            "sample_rate": self.sample_rate, "optimize": optimize, "generation": self.generation,
            "placeholder_modules": stand_ins, "torch_threads": threads,
            "weights_sha256": weight_checksums(path) if settings.get("checksums", True) else None,
        }

    def synthesize(self, request: dict[str, Any]):
        prompt_wav, prompt_text = request.get("prompt_wav"), request.get("prompt_text")
        if prompt_wav is None:
            raise ValueError("VoxCPM2 voice cloning needs a prompt clip")
        if prompt_text:
            voice = {"prompt_wav_path": prompt_wav, "prompt_text": prompt_text}
        else:
            voice = {"reference_wav_path": prompt_wav}
        seed_everything(int(request["seed"]))
        start = time.perf_counter()
        samples = self.tts.generate(text=request["text"], **voice, **self.generation)
        return samples, self.sample_rate, {"model_seconds": time.perf_counter() - start,
                                           "prompt_mode": "continuation" if prompt_text else "reference"}


def check_all_weights_loaded(model, path: str) -> None:
    """``from_local`` loads with ``strict=False``: a truncated or mismatched checkpoint would
    leave layers at their random initialisation without a word. Every model parameter except the
    LoRA adapters must come from the files."""
    import os

    import torch

    stored: set[str] = set()
    safetensors_path = os.path.join(path, "model.safetensors")
    if os.path.exists(safetensors_path):
        from safetensors import safe_open

        with safe_open(safetensors_path, "pt") as handle:
            stored.update(handle.keys())
    else:
        state = torch.load(os.path.join(path, "pytorch_model.bin"), map_location="cpu", weights_only=True)
        stored.update(state.get("state_dict", state))
    vae_safetensors = os.path.join(path, "audiovae.safetensors")
    if os.path.exists(vae_safetensors):
        from safetensors import safe_open

        with safe_open(vae_safetensors, "pt") as handle:
            stored.update(f"audio_vae.{k}" for k in handle.keys())
    else:
        state = torch.load(os.path.join(path, "audiovae.pth"), map_location="cpu", weights_only=True)
        stored.update(f"audio_vae.{k}" for k in state.get("state_dict", state))
    # parameters only: buffers (e.g. the VAE's sr_bin_boundaries) are rebuilt from config.json
    missing = sorted(k for k, _ in model.named_parameters() if k not in stored and "lora_" not in k)
    if missing:
        raise ValueError(f"{len(missing)} model tensors are not in the checkpoint at {path} "
                         f"(e.g. {missing[:3]}); it is incomplete or for another model size")


if __name__ == "__main__":
    sys.exit(serve(VoxCPM2Engine))
