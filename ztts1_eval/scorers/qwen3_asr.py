"""WER/CER with Qwen3-ASR through native transformers (>= 5.13), the paper's content scorer.

Weights: ``Qwen/Qwen3-ASR-1.7B-hf`` (or ``-0.6B-hf``) from the hub at a pinned revision, or a
local directory. Nothing is downloaded when ``HF_HUB_OFFLINE=1``; a missing model stops the run
before any synthesis with the command that fetches it. The ``qwen-asr`` package is not used: it
pins transformers 4.57 and breaks the native implementation.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval import languages, normalize
from ztts1_eval.scorers import hub
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable
from ztts1_eval.wer import score_transcript

DEFAULT_MODEL = "Qwen/Qwen3-ASR-1.7B-hf"
# The model's language names for the benchmark's languages (Tagalog is "Filipino").
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French", "hi": "Hindi",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "th": "Thai", "tl": "Filipino", "tr": "Turkish", "zh": "Chinese", "yue": "Cantonese",
    "nl": "Dutch", "vi": "Vietnamese", "cs": "Czech", "fa": "Persian", "hu": "Hungarian", "ms": "Malay",
    "ro": "Romanian", "sv": "Swedish", "uk": "Ukrainian",
}


def resolve_model(model: str, revision: str | None) -> Path:
    """A local directory, or the hub snapshot (cache first; download unless HF_HUB_OFFLINE)."""
    return hub.snapshot("qwen3_asr", model, revision, option="wer.model")


class Qwen3ASRWER(Scorer):
    type_name = "qwen3_asr"

    def __init__(self, model: str = DEFAULT_MODEL, revision: str | None = None, force_language: bool = True,
                 normalizer: str = "seedtts", batch_size: int = 8, device: str = "auto", dtype: str = "auto",
                 max_new_tokens: int = 448):
        try:
            import torch
            import transformers  # noqa: F401
            from transformers import Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"qwen3_asr needs transformers >= 5.13 and torch: pip install -e '.[paper]' ({exc})") from exc
        self.source = resolve_model(model, revision)  # fail fast, before any synthesis
        self.model_id, self.revision = model, revision
        self.force_language = force_language
        self.normalizer = normalize.get(normalizer)
        self.batch_size = batch_size
        self.device = hub.resolve_device(device)
        self.dtype = ("bfloat16" if self.device.startswith("cuda") else "float32") if dtype == "auto" else dtype
        self.max_new_tokens = max_new_tokens
        self.info = ScorerInfo(
            needs_text=True, needs_reference_audio=False, kind="utterance", sample_rate=16000,
            languages=frozenset(LANGUAGE_NAMES),
            metrics=(Metric("wer", "WER/CER (%)", higher_is_better=False, scale=100.0,
                            corpus_numerator="wer_errors", corpus_denominator="wer_ref_units"),),
            unsupported_reason="language not supported by Qwen3-ASR",
        )
        self._model = self._processor = None

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": self.model_id,
            "revision": self.revision,
            "snapshot": self.source.name,  # the commit hash for hub snapshots
            "model_sha256": hub.weight_checksums(self.source),
            "package": f"transformers=={version('transformers')}",
            "force_language": self.force_language,
            "normalizer": self.normalizer.identity(),
            "batch_size": self.batch_size,  # padding in a batch can change hypotheses
            "dtype": self.dtype,
            "device": self.device.split(":")[0],
            "decoding": {"do_sample": False, "max_new_tokens": self.max_new_tokens},
            "sample_rate": 16000,
        }

    def load(self) -> None:
        import torch
        from transformers import Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor

        self._processor = Qwen3ASRProcessor.from_pretrained(self.source)
        self._processor.tokenizer.padding_side = "left"  # decoder-only generation
        self._model = Qwen3ASRForConditionalGeneration.from_pretrained(
            self.source, dtype=getattr(torch, self.dtype)).to(self.device).eval()

    def _transcribe(self, audios: list[np.ndarray], language_codes: list[str]) -> list[str]:
        import torch

        names = [LANGUAGE_NAMES[c] for c in language_codes] if self.force_language else None
        inputs = self._processor.apply_transcription_request(audios, language=names)
        inputs = inputs.to(self.device)
        if "input_features" in inputs:
            inputs["input_features"] = inputs["input_features"].to(getattr(torch, self.dtype))
        with torch.inference_mode():
            generated = self._model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = generated[:, inputs["input_ids"].shape[1]:]
        return [self._processor.decode(row, return_format="transcription_only") for row in new_tokens]

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        # Similar lengths together: less padding, and the order does not depend on the caller.
        order = sorted(range(len(batch)), key=lambda i: (len(batch[i].audio.samples), batch[i].item_id))
        hypotheses = self._transcribe([batch[i].audio.samples for i in order], [batch[i].language for i in order])
        by_index = dict(zip(order, hypotheses))
        outputs = []
        for i, item in enumerate(batch):
            values, failure = score_transcript(item.text, by_index[i], item.language, self.normalizer)
            values["wer_unit"] = languages.error_unit(item.language)
            outputs.append(ScoreOutput(values=values, status="failed" if failure else "ok", reason=failure))
        return outputs

    def close(self) -> None:
        self._model = self._processor = None
