"""Worker for Qwen3-TTS Base models (``qwen-tts``; e.g. ``Qwen/Qwen3-TTS-12Hz-1.7B-Base``):
voice cloning from the prompt clip *and* its transcript (``generate_voice_clone``), 24 kHz.

Run by :class:`systems.qwen3_tts.Qwen3TTS` as ``python -m systems.workers.qwen3_tts``."""

from __future__ import annotations

import sys
import time
from typing import Any

from systems.workers.serve import (pick_device, pick_dtype, placeholder_modules, require, resolve_model,
                                   seed_everything, serve, set_threads, versions, weight_checksums)

# benchmark language code -> the language name Qwen3-TTS takes (its config's codec_language_id keys)
LANGUAGE_NAMES = {"zh": "chinese", "en": "english", "ja": "japanese", "ko": "korean", "de": "german",
                  "fr": "french", "ru": "russian", "pt": "portuguese", "es": "spanish", "it": "italian"}
MIN_VERSION = "0.1.1"
# what generate_voice_clone's generation path reads; anything else would be dropped silently
GENERATION_KEYS = {"do_sample", "top_k", "top_p", "temperature", "repetition_penalty", "subtalker_dosample",
                   "subtalker_top_k", "subtalker_top_p", "subtalker_temperature", "max_new_tokens"}


class Qwen3TTSEngine:
    settings = {"attn_implementation", "x_vector_only_mode", "non_streaming_mode"}

    def __init__(self, settings: dict[str, Any]):
        self.generation = dict(settings.get("generation") or {})
        unknown = set(self.generation) - GENERATION_KEYS
        if unknown:
            raise ValueError(f"unknown Qwen3-TTS generation settings {sorted(unknown)}; known: {sorted(GENERATION_KEYS)}")
        require("qwen-tts", MIN_VERSION)
        stand_ins = placeholder_modules(["torchaudio.compliance.kaldi", "sox"])
        from qwen_tts import Qwen3TTSModel

        threads = set_threads(settings.get("threads"))
        self.device = pick_device(settings.get("device"))
        dtype = pick_dtype(settings.get("dtype"), self.device)
        path, commit = resolve_model(settings["model"], settings.get("revision"))
        kwargs: dict[str, Any] = {"device_map": self.device, "dtype": dtype}
        if settings.get("attn_implementation"):
            kwargs["attn_implementation"] = settings["attn_implementation"]
        self.tts = Qwen3TTSModel.from_pretrained(path, **kwargs)
        self.non_streaming_mode = bool(settings.get("non_streaming_mode", False))
        self.x_vector_only = bool(settings.get("x_vector_only_mode", False))
        supported = set(self.tts.get_supported_languages() or [])
        self.languages = {code: name for code, name in LANGUAGE_NAMES.items() if not supported or name in supported}
        self.info = {
            "packages": versions("qwen-tts", "torch", "transformers", "accelerate"),
            "model": settings["model"], "revision": settings.get("revision"), "resolved_path": path,
            "resolved_commit": commit, "device": self.device, "dtype": str(dtype).replace("torch.", ""),
            "languages": sorted(self.languages), "language_names": self.languages,
            # explicit settings over the checkpoint's generate_config.json over the package defaults
            "generation": self.tts._merge_generate_kwargs(**self.generation),
            "x_vector_only_mode": self.x_vector_only, "non_streaming_mode": self.non_streaming_mode,
            "attn_implementation": getattr(self.tts.model.config, "_attn_implementation", None),
            "sample_rate": int(self.tts.model.speech_tokenizer.get_output_sample_rate()),
            "placeholder_modules": stand_ins,
            "torch_threads": threads,
            "weights_sha256": weight_checksums(path) if settings.get("checksums", True) else None,
        }

    def synthesize(self, request: dict[str, Any]):
        if request.get("prompt_wav") is None:
            raise ValueError("Qwen3-TTS Base clones a voice: the item needs a prompt clip")
        if not self.x_vector_only and not request.get("prompt_text"):
            raise ValueError("Qwen3-TTS voice cloning needs the prompt transcript (or x_vector_only_mode: true)")
        language = self.languages.get(request["language"])
        if language is None:
            raise ValueError(f"Qwen3-TTS does not support language {request['language']!r}")
        seed_everything(int(request["seed"]))
        start = time.perf_counter()
        wavs, rate = self.tts.generate_voice_clone(
            text=request["text"], language=language, ref_audio=request["prompt_wav"],
            ref_text=request.get("prompt_text"), x_vector_only_mode=self.x_vector_only,
            non_streaming_mode=self.non_streaming_mode, **self.generation)
        return wavs[0], rate, {"model_seconds": time.perf_counter() - start, "language_name": language}


if __name__ == "__main__":
    sys.exit(serve(Qwen3TTSEngine))
