"""WER/CER with Qwen3-ASR, the paper's content scorer.

Two backends that give the same transcripts for clips up to 8 s (a parity test holds them
together on one tiny checkpoint in both layouts; beyond 8 s the package windows its audio encoder
only under flash_attention_2, transformers 5 always does):

- ``native`` (default): transformers >= 5.13 in this environment, weights
  ``Qwen/Qwen3-ASR-1.7B-hf`` (or ``-0.6B-hf``).
- ``qwen_asr``: the official ``qwen-asr`` package itself, which pins transformers 4.57, in the
  workers' environment (:mod:`ztts1_eval.scorers.qwen_asr_package`), weights in the release layout
  ``Qwen/Qwen3-ASR-1.7B``.

Weights come from the hub at a pinned revision or a local directory. Nothing is downloaded when
``HF_HUB_OFFLINE=1``; a missing model stops the run before any synthesis with the command that
fetches it.

Decoding reproduces the official ``qwen-asr`` package (``Qwen3ASRModel.transcribe``): its chat
prompt (a system turn, empty unless ``context`` is set, then the audio turn and the generation
prompt), the language *not* forced (forcing appends ``language <Name><asr_text>`` after the
generation prompt, exactly as the package does), greedy decoding with the checkpoint's generation
config, ``max_new_tokens`` 1024 (the package's published benchmark setting), audio above full
scale divided by its peak. The prompt is built here rather than by
``apply_transcription_request``, whose meaning of ``language`` changed in transformers 5.15.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval.text import normalize
from ztts1_eval.scorers import hub, qwen_asr_package
from ztts1_eval.scorers.base import (Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable,
                                     transcript_output)

DEFAULT_MODEL = "Qwen/Qwen3-ASR-1.7B-hf"
# backend -> its default weights, in the layout it loads (native: -hf; qwen_asr: the release's)
BACKENDS = {"native": DEFAULT_MODEL, "qwen_asr": "Qwen/Qwen3-ASR-1.7B"}
# The model's language names (its 30 supported languages) for our language codes; Tagalog is
# "Filipino". Danish and Macedonian are supported by the model but not benchmark languages here.
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French", "hi": "Hindi",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "th": "Thai", "tl": "Filipino", "tr": "Turkish", "zh": "Chinese", "yue": "Cantonese",
    "nl": "Dutch", "vi": "Vietnamese", "cs": "Czech", "fa": "Persian", "hu": "Hungarian", "ms": "Malay",
    "ro": "Romanian", "sv": "Swedish", "fi": "Finnish", "el": "Greek",
}
OFFICIAL_MAX_NEW_TOKENS = 1024


def resolve_model(model: str, revision: str | None) -> Path:
    """A local directory, or the hub snapshot (cache first; download unless HF_HUB_OFFLINE)."""
    return hub.snapshot("qwen3_asr", model, revision, option="wer.model")


class Qwen3ASRWER(Scorer):
    type_name = "qwen3_asr"

    def __init__(self, model: str | None = None, revision: str | None = None, force_language: bool = False,
                 normalizer: str = "unicode_punct", batch_size: int = 8, device: str = "auto", dtype: str = "auto",
                 max_new_tokens: int = OFFICIAL_MAX_NEW_TOKENS, context: str = "", backend: str = "native",
                 python: str | None = None, attn_implementation: str | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"qwen3_asr: unknown backend {backend!r}; choose one of {sorted(BACKENDS)}")
        self.backend = backend
        if attn_implementation and backend != "qwen_asr":
            raise ValueError("qwen3_asr: attn_implementation is a qwen_asr-backend option (it decides whether the "
                             "package windows its encoder); the native path always windows")
        self.attn_implementation = attn_implementation
        model = model or BACKENDS[backend]
        if backend == "native":
            try:
                import torch  # noqa: F401
                from transformers import Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor  # noqa: F401
            except ImportError as exc:
                raise ScorerUnavailable(f"qwen3_asr needs transformers >= 5.13 and torch: pip install -e '.[paper]' "
                                        f"({exc})") from exc
            self.packages = {"transformers": version("transformers")}
        else:
            from systems.worker_system import _resolve_python

            self.python = _resolve_python(python or qwen_asr_package.DEFAULT_PYTHON)
            self.packages = qwen_asr_package.package_versions(self.python)  # fail fast without the package
        self.source = resolve_model(model, revision)  # fail fast, before any synthesis
        self.model_id, self.revision = model, revision
        self.force_language = force_language
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.batch_size = batch_size
        self.device = hub.resolve_device(device)
        self.dtype = ("bfloat16" if self.device.startswith("cuda") else "float32") if dtype == "auto" else dtype
        self.max_new_tokens = max_new_tokens
        self.context = context
        self.info = ScorerInfo(
            needs_text=True, needs_reference_audio=False, kind="utterance", sample_rate=16000,
            languages=frozenset(LANGUAGE_NAMES),
            metrics=(Metric("wer", "WER/CER (%)", higher_is_better=False, scale=100.0,
                            corpus_numerator="wer_errors", corpus_denominator="wer_ref_units", worst=1.0),),
            unsupported_reason="language not supported by Qwen3-ASR",
        )
        self._model = self._processor = self._package = None

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": self.model_id,
            "revision": self.revision,
            "snapshot": self.source.name,  # the commit hash for hub snapshots
            "model_sha256": hub.weight_checksums(self.source),
            "backend": self.backend,
            **({"attn_implementation": self.attn_implementation or "package default (sdpa: encoder not windowed)"}
               if self.backend == "qwen_asr" else {}),
            "package": ", ".join(f"{k}=={v}" for k, v in self.packages.items()),
            "force_language": self.force_language,
            "prompt": {"system": self.context, "reproduces": "qwen-asr Qwen3ASRModel.transcribe"},
            "settings_note": ("language forced to the item's (qwen-asr default: auto-detect)" if self.force_language
                              else "language auto-detected (qwen-asr default)")
                             + ("" if self.max_new_tokens == OFFICIAL_MAX_NEW_TOKENS else f", max_new_tokens {self.max_new_tokens}")
                             + (f", system context {self.context!r}" if self.context else "")
                             + (", through the qwen-asr package" if self.backend == "qwen_asr" else ""),
            "normalizer": self.normalizer.identity(),
            "batch_size": self.batch_size,  # padding in a batch can change hypotheses
            "dtype": self.dtype,
            "device": self.device.split(":")[0],
            "decoding": {"greedy": True, "max_new_tokens": self.max_new_tokens,
                         # the package's generate() ignores the file and stops on these ids
                         "generation_config": hub.generation_config(self.source) if self.backend == "native"
                         else {"eos_token_id": [151645, 151643], "set_by": "qwen-asr generate()"}},
            "sample_rate": 16000,
        }

    def load(self) -> None:
        if self.backend == "qwen_asr":
            if self._package is None:
                self._package = qwen_asr_package.QwenASRPackage(self.python, self.source, {
                    "device": self.device, "dtype": self.dtype, "batch_size": self.batch_size,
                    "max_new_tokens": self.max_new_tokens, "context": self.context,
                    "attn_implementation": self.attn_implementation})
                self._package.start()
            return
        import torch
        from transformers import Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor

        self._processor = Qwen3ASRProcessor.from_pretrained(self.source)
        self._processor.tokenizer.padding_side = "left"  # decoder-only generation
        self._model = Qwen3ASRForConditionalGeneration.from_pretrained(
            self.source, dtype=getattr(torch, self.dtype)).to(self.device).eval()

    def prompt(self, language_code: str) -> str:
        """The official package's prompt for one clip (audio placeholder not yet expanded)."""
        messages = [{"role": "system", "content": self.context},
                    {"role": "user", "content": [{"type": "audio", "audio": ""}]}]
        text = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        if self.force_language:
            text += f"language {LANGUAGE_NAMES[language_code]}<asr_text>"
        return text

    def _transcribe(self, audios: list[np.ndarray], language_codes: list[str]) -> list[dict]:
        """``[{"transcription", "language"}]``, one per clip."""
        import torch

        if self._package is not None:  # the package reads, peak-limits and prompts itself
            names = [LANGUAGE_NAMES[c] if self.force_language else None for c in language_codes]
            return [{"transcription": r["text"], "language": r["language"] or None}
                    for r in self._package.transcribe(audios, names)]
        audios = [_peak_limited(a) for a in audios]
        inputs = self._processor(text=[self.prompt(c) for c in language_codes], audio=audios,
                                 return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        if "input_features" in inputs:
            inputs["input_features"] = inputs["input_features"].to(getattr(torch, self.dtype))
        with torch.inference_mode():
            generated = self._model.generate(**inputs, max_new_tokens=self.max_new_tokens)
        new_tokens = generated[:, inputs["input_ids"].shape[1]:]
        return [self._processor.decode(row, return_format="parsed") for row in new_tokens]

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        # Similar lengths together: less padding, and the order does not depend on the caller.
        order = sorted(range(len(batch)), key=lambda i: (len(batch[i].audio.samples), batch[i].item_id))
        try:
            hypotheses = self._transcribe([batch[i].audio.samples for i in order], [batch[i].language for i in order])
        except RuntimeError as exc:  # the qwen-asr worker died or refused: these items fail, the run goes on
            if self._package is None:
                raise
            return [ScoreOutput(status="failed", reason=str(exc)[-500:]) for _ in batch]
        by_index = dict(zip(order, hypotheses))
        outputs = []
        for i, item in enumerate(batch):
            parsed = by_index[i]
            output = transcript_output(item, parsed["transcription"], self.normalizer)
            # The language the model wrote (auto-detection); the forced one when forcing.
            output.values["asr_language"] = LANGUAGE_NAMES[item.language] if self.force_language else parsed["language"]
            outputs.append(output)
        return outputs

    def close(self) -> None:
        if self._package is not None:
            self._package.close()
        self._model = self._processor = self._package = None


def _peak_limited(samples: np.ndarray) -> np.ndarray:
    """As qwen-asr loads audio: a signal above full scale is divided by its peak (not clipped)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples / peak if peak > 1.0 else samples


