"""Worker for the official ``qwen-asr`` package (``Qwen3ASRModel``, transformers backend) on a
checkpoint in the original layout (``Qwen/Qwen3-ASR-1.7B``, not ``-hf``).

It is the reference the native scorer (:mod:`ztts1_eval.scorers.qwen3_asr`) is checked against,
and that scorer's ``backend: qwen_asr``. It lives in the workers' environment because qwen-asr
pins ``transformers==4.57.6``. Run as ``python -m systems.workers.qwen_asr``.

Request: ``{"item_id", "audio": [16 kHz WAV paths], "language": [model language name or null]}``
(null: auto-detect, the package's default). Answer: ``{"results": [{"language", "text"}]}``, one
per clip in order: exactly what ``Qwen3ASRModel.transcribe`` returned.

The package's audio encoder uses its 8 s attention windows only under ``flash_attention_2``;
under sdpa or eager (the CPU, or a GPU without flash-attn) it attends across the whole clip, so
clips over 8 s transcribe differently from transformers 5 (which always windows).
"""

from __future__ import annotations

import sys
from typing import Any

from systems.workers.serve import (pick_device, pick_dtype, require, resolve_model, serve, set_threads, versions,
                                   weight_checksums)

MIN_VERSION = "0.0.6"


class QwenASREngine:
    settings = {"batch_size", "max_new_tokens", "context", "attn_implementation"}

    def __init__(self, settings: dict[str, Any]):
        require("qwen-asr", MIN_VERSION)
        from qwen_asr import Qwen3ASRModel

        threads = set_threads(settings.get("threads"))
        device = pick_device(settings.get("device"))
        dtype = pick_dtype(settings.get("dtype"), device)
        path, commit = resolve_model(settings["model"], settings.get("revision"))
        self.context = str(settings.get("context") or "")
        batch_size, max_new_tokens = int(settings.get("batch_size") or 32), int(settings.get("max_new_tokens") or 512)
        extra = {"attn_implementation": settings["attn_implementation"]} if settings.get("attn_implementation") else {}
        self.asr = Qwen3ASRModel.from_pretrained(path, max_inference_batch_size=batch_size,
                                                 max_new_tokens=max_new_tokens, dtype=dtype, device_map=device, **extra)
        self.info = {
            "packages": versions("qwen-asr", "transformers", "torch", "accelerate"),
            "model": settings["model"], "revision": settings.get("revision"), "resolved_path": path,
            "resolved_commit": commit, "device": device, "dtype": str(dtype).replace("torch.", ""),
            "max_inference_batch_size": batch_size, "max_new_tokens": max_new_tokens, "context": self.context,
            "languages": list(self.asr.get_supported_languages() or []),
            "attn_implementation": getattr(self.asr.model.config, "_attn_implementation", None),
            "torch_threads": threads,
            "weights_sha256": weight_checksums(path) if settings.get("checksums", True) else None,
        }

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        results = self.asr.transcribe(audio=list(request["audio"]), context=self.context,
                                      language=list(request["language"]))
        return {"results": [{"language": r.language, "text": r.text} for r in results]}


if __name__ == "__main__":
    sys.exit(serve(QwenASREngine))
