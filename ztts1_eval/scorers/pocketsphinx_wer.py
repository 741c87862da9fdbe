"""English WER with CMU PocketSphinx and the en-US model bundled in its wheel (offline).

Weaker than a modern ASR (the paper uses Qwen3-ASR) but real, deterministic and shipped in
PyPI, so it runs in CI. Other languages get no score, with the reason in the table.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Sequence

import numpy as np

from ztts1_eval.text import normalize
from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers.base import (Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable,
                                     transcript_output)


class PocketsphinxWER(Scorer):
    type_name = "pocketsphinx_wer"
    info = ScorerInfo(
        needs_text=True,
        needs_reference_audio=False,
        kind="utterance",
        sample_rate=16000,
        languages=frozenset({"en"}),
        metrics=(
            Metric("wer", "WER (%)", higher_is_better=False, scale=100.0,
                   corpus_numerator="wer_errors", corpus_denominator="wer_ref_units", worst=1.0),
        ),
        unsupported_reason="no offline ASR for this language (pocketsphinx: en only)",
    )

    def __init__(self, normalizer: str = "seedtts_eval", batch_size: int = 8):
        try:
            import pocketsphinx
        except ImportError as exc:
            raise ScorerUnavailable("pocketsphinx_wer: install the lite extra: pip install -e '.[lite]'") from exc
        self._ps = pocketsphinx
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.batch_size = batch_size
        self._config = None

    def identity(self) -> dict[str, Any]:
        config = self._ps.Config()
        return {
            "type": self.type_name,
            "model": "pocketsphinx bundled en-us (acoustic model + en-us.lm.bin + cmudict-en-us.dict)",
            "package": f"pocketsphinx=={version('pocketsphinx')}",
            "model_sha256": {key: tree_sha256(config[key]) for key in ("hmm", "lm", "dict")},
            "normalizer": self.normalizer.identity(),
            "sample_rate": self.info.sample_rate,
            "decoder": "fresh per utterance (order-independent)",
        }

    def load(self) -> None:
        self._config = self._ps.Config()

    def _transcribe(self, samples: np.ndarray) -> str:
        # A fresh decoder per utterance (~0.3 s): a reused one carries cepstral-mean and other
        # state from the previous utterance, so hypotheses would depend on the scoring order
        # (and so on sharding and caching). cmn="batch" alone does not remove that dependence.
        decoder = self._ps.Decoder(self._config)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            outputs.append(transcript_output(item, self._transcribe(item.audio.samples), self.normalizer))
        return outputs

    def close(self) -> None:
        self._config = None
