"""WER with Whisper through native transformers, as Seed-TTS-Eval's ``run_wer.py`` scores English.

Reproduces its English path: ``openai/whisper-large-v3`` (``WhisperProcessor`` features of the
clip at 16 kHz, 30 s window), the decoder prompt forced to English and transcription
(``get_decoder_prompt_ids(language="english", task="transcribe")``), ``generate`` with the
checkpoint's generation config (greedy), special tokens skipped; the clip brought to 16 kHz by
``scipy.signal.resample`` (FFT) when it is at another rate, as the script does. The script's
``process_one`` rules are the ``seedtts_eval`` normalizer. Deliberate options, recorded in the
identity: ``resampler: soxr`` (our pipeline's resampler), ``language: null`` (auto-detect), a
batch above 1 (the script transcribes one clip at a time; every clip is padded to the same
30 s of features, so batching changes nothing beyond float noise).
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Sequence

import numpy as np

from ztts1_eval.scorers import hub, resampling
from ztts1_eval.scorers.base import (Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable,
                                     transcript_output)
from ztts1_eval.text import normalize

DEFAULT_MODEL = "openai/whisper-large-v3"
SAMPLE_RATE = 16000
RESAMPLERS = ("scipy_fft", "soxr")


class WhisperWER(Scorer):
    type_name = "whisper_asr"

    def __init__(self, model: str = DEFAULT_MODEL, revision: str | None = None, language: str | None = "english",
                 task: str = "transcribe", normalizer: str = "seedtts_eval", resampler: str = "scipy_fft",
                 batch_size: int = 8, device: str = "auto", dtype: str = "float32",
                 max_new_tokens: int | None = None, languages: list[str] | None = None):
        try:
            import torch  # noqa: F401
            from transformers import WhisperForConditionalGeneration, WhisperProcessor  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"whisper_asr needs transformers and torch: pip install -e '.[paper]' ({exc})") from exc
        resampling.check("whisper_asr", resampler, RESAMPLERS)
        self.source = hub.snapshot("whisper_asr", model, revision, option="wer.model")  # fail fast
        self.model_id, self.revision = model, revision
        self.language, self.task, self.resampler = language, task, resampler
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.batch_size = batch_size
        self.device = hub.resolve_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        # Seed-TTS-Eval scores English with Whisper (Chinese with Paraformer): en by default.
        scored = frozenset(languages) if languages else frozenset({"en"})
        self.info = ScorerInfo(
            needs_text=True, needs_reference_audio=False, kind="utterance", sample_rate=SAMPLE_RATE,
            languages=scored,
            metrics=(Metric("wer", "WER (%)", higher_is_better=False, scale=100.0,
                            corpus_numerator="wer_errors", corpus_denominator="wer_ref_units", worst=1.0),),
            unsupported_reason="not scored by Whisper in this protocol (Seed-TTS-Eval: Paraformer-zh for zh)",
            native_rates=resampling.native_rates(resampler),
        )
        self._model = self._processor = None

    def identity(self) -> dict[str, Any]:
        note = []
        if self.language != "english":
            note.append(f"language {self.language or 'auto-detected'} (Seed-TTS-Eval: english)")
        if self.resampler != "scipy_fft":
            note.append(f"resampled by {self.resampler} (Seed-TTS-Eval: scipy.signal.resample)")
        if self.max_new_tokens:
            note.append(f"max_new_tokens {self.max_new_tokens}")
        return {
            "type": self.type_name,
            "model": self.model_id,
            "revision": self.revision,
            "snapshot": self.source.name,
            "model_sha256": hub.weight_checksums(self.source),
            "package": f"transformers=={version('transformers')}",
            "reproduces": "seed-tts-eval run_wer.py (English: Whisper-large-v3)",
            "language": self.language,
            "task": self.task,
            "resampler": self.resampler,
            "max_new_tokens": self.max_new_tokens,
            "generation_config": hub.generation_config(self.source),
            "settings_note": "; ".join(note) or None,
            "normalizer": self.normalizer.identity(),
            "batch_size": self.batch_size,
            "dtype": self.dtype,
            "device": self.device.split(":")[0],
            "languages": sorted(self.info.languages or []),
            "sample_rate": SAMPLE_RATE,
        }

    def load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self._processor = WhisperProcessor.from_pretrained(str(self.source))
        self._model = WhisperForConditionalGeneration.from_pretrained(
            str(self.source), dtype=getattr(torch, self.dtype)).to(self.device).eval()

    def features(self, clips: Sequence[tuple[np.ndarray, int]]):
        """Log-mel input features of (samples, rate) clips, as the script's processor call makes them."""
        self.load()
        waves = [resampling.resample(np.asarray(samples), rate, SAMPLE_RATE, self.resampler) for samples, rate in clips]
        return self._processor.feature_extractor(waves, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features

    def transcribe(self, clips: Sequence[tuple[np.ndarray, int]]) -> list[str]:
        import torch

        features = self.features(clips)
        options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens} if self.max_new_tokens else {}
        if self.language:
            # The script's forced_decoder_ids, as the decoder prompt they force (start, language,
            # task, no-timestamps): one 30 s window decoded once, as transformers 4 did for it.
            prompt = self._processor.get_decoder_prompt_ids(language=self.language, task=self.task)
            start = [self._model.generation_config.decoder_start_token_id] + [token for _, token in prompt]
            options["decoder_input_ids"] = torch.tensor([start] * len(clips), device=self.device)
        else:
            options["task"] = self.task  # the language detected by the model
        with torch.inference_mode():
            ids = self._model.generate(features.to(self.device, getattr(torch, self.dtype)), **options)
        return list(self._processor.batch_decode(ids, skip_special_tokens=True))  # unstripped, as the script

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        texts = self.transcribe([(item.audio.samples, item.audio.sample_rate) for item in batch])
        outputs = []
        for item, text in zip(batch, texts):
            outputs.append(transcript_output(item, text, self.normalizer))
        return outputs

    def close(self) -> None:
        self._model = self._processor = None

