"""English WER with CMU PocketSphinx and the en-US model bundled in its wheel (offline).

Weaker than a modern ASR (the paper uses Qwen3-ASR) but real, deterministic and shipped in
PyPI, so it runs in CI. Other languages get no score, with the reason in the table.

Decoding is single-threaded and holds the GIL (~0.4 s per second of speech here), so a batch is
spread over worker processes, one per CPU by default; each utterance gets a fresh decoder either
way, so the hypotheses do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
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

    def __init__(self, normalizer: str = "seedtts_eval", batch_size: int = 8, workers: int | None = None):
        """``workers``: decoding processes (default: one per CPU this process may use, at most
        ``batch_size``, on Linux); 1 decodes in this process."""
        try:
            import pocketsphinx
        except ImportError as exc:
            raise ScorerUnavailable("pocketsphinx_wer: install the lite extra: pip install -e '.[lite]'") from exc
        self._ps = pocketsphinx
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.batch_size = batch_size
        if workers is not None and workers < 1:
            raise ValueError(f"pocketsphinx_wer: workers must be at least 1, got {workers}")
        self.workers = workers or _default_workers(batch_size)
        self._pool = None

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
        """Start the decoding processes (again after a time limit stopped them)."""
        if self.workers == 1:
            _start_worker()
        elif self._pool is None:
            # fork, not spawn: spawn re-runs the caller's main script in each worker (a script
            # without a main guard would start pools forever). The forked workers only run
            # PocketSphinx's C decoder, never torch's thread pools.
            self._pool = multiprocessing.get_context("fork").Pool(self.workers, initializer=_start_worker)

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        pcms = [_pcm16(item.audio.samples) for item in batch]
        self.load()
        if self._pool is None:
            hypotheses = [_transcribe(pcm) for pcm in pcms]
        else:
            try:
                hypotheses = self._pool.map(_transcribe, pcms, chunksize=1)
            except BaseException:  # a time limit or an interrupt: stop the workers' decoding too
                self.close()
                raise
        return [transcript_output(item, hypothesis, self.normalizer) for item, hypothesis in zip(batch, hypotheses)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


_config = None  # the decoder configuration of this process (the bundled en-US model)


def _default_workers(batch_size: int) -> int:
    """One per CPU this process may use, on Linux (forked workers); elsewhere in this process."""
    if not hasattr(os, "sched_getaffinity"):
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), batch_size))


def _start_worker() -> None:
    global _config
    if _config is None:
        import pocketsphinx

        _config = pocketsphinx.Config()


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _transcribe(pcm: bytes) -> str:
    """A fresh decoder per utterance (~0.3 s): a reused one carries cepstral-mean and other state
    from the previous utterance, so hypotheses would depend on the scoring order (and so on
    sharding and caching). cmn="batch" alone does not remove that dependence."""
    import pocketsphinx

    decoder = pocketsphinx.Decoder(_config)  # set by load() here, or by the worker's initializer
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""
