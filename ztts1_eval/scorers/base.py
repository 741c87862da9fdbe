"""The scorer interface.

The pipeline, not the scorer, decodes and resamples audio (to ``info.sample_rate``, mono,
with soxr) and decides which items a scorer sees; the scorer turns a batch of inputs into
values. ``identity()`` must change whenever outputs could change (model file, revision,
parameters, normalizer version): it is part of the score cache key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, Sequence

from ztts1_eval.core.checksums import json_sha256
from ztts1_eval.core.audio import Audio


class ScorerUnavailable(RuntimeError):
    """The scorer's model or package is missing; the message says how to provide it."""


@dataclass(frozen=True)
class Metric:
    """A number a scorer produces that belongs in tables."""

    field: str  # column in items.parquet
    label: str  # row label in tables
    higher_is_better: bool
    scale: float = 1.0  # table value = mean(field) * scale
    decimals: int = 2
    # For error rates: fields summed for the corpus value (errors / reference units).
    corpus_numerator: str | None = None
    corpus_denominator: str | None = None
    # Set for distribution-level metrics: the group value is computed from every item's
    # features by this aggregator (see ztts1_eval.report.aggregate), not as a mean of per-item values.
    distribution: str | None = None
    # The metric's worst value (in field units), given to an item whose synthesis or scoring
    # failed when means over *all* items are asked for (``failed_as_worst``); None: no such
    # value (distribution-level and diversity metrics), so no all-items mean.
    worst: float | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Metric:
        """The metric as ``scores/<scorer>/_scorer.json`` stored it (unknown keys ignored, so a
        record written by a newer version still loads)."""
        return cls(**{f.name: record[f.name] for f in fields(cls) if f.name in record})


@dataclass(frozen=True)
class ScorerInfo:
    needs_text: bool
    needs_reference_audio: bool  # the clone prompt (speaker similarity)
    kind: str  # "utterance" | "distribution"
    sample_rate: int
    languages: frozenset[str] | None  # None: any language
    metrics: tuple[Metric, ...]
    # Why an unsupported language gets no score; shown in tables.
    unsupported_reason: str = "not supported by this scorer"
    # Rates a multi-rate model runs at natively; audio at another rate is resampled to the
    # nearest of them (ties go up). Empty: everything is resampled to ``sample_rate``.
    native_rates: tuple[int, ...] = ()
    # Distribution scorers compare outputs with the real recordings (the items' gt_wav).
    needs_ground_truth: bool = False
    # Diversity scorers see all K generations of an item (run config ``generations``).
    needs_all_samples: bool = False
    # Scorers with a model fitted on the run's real recordings (set_reference_recordings).
    fits_on_references: bool = False
    # Item meta keys the scorer reads (e.g. CV3-Eval's "emotion" label): items without them are
    # n/a, and their values are part of the score's cache key.
    needs_meta: tuple[str, ...] = ()

    def supports(self, language: str) -> bool:
        return self.languages is None or language in self.languages

    def rate_for(self, input_rate: int) -> int:
        if not self.native_rates:
            return self.sample_rate
        return min(self.native_rates, key=lambda rate: (abs(rate - input_rate), -rate))


@dataclass(frozen=True)
class ScoreInput:
    item_id: str
    language: str
    audio: Audio
    reference: Audio | None = None
    text: str | None = None
    ground_truth: Audio | None = None
    samples: list[Audio] | None = None  # every successful generation, for needs_all_samples
    meta: dict[str, Any] = field(default_factory=dict)  # the item's meta keys named by needs_meta


@dataclass
class ScoreOutput:
    values: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"  # "ok" | "failed"
    reason: str | None = None


def transcript_output(item: ScoreInput, hypothesis: str, normalizer) -> ScoreOutput:
    """An ASR scorer's result for one item: the WER/CER fields of ``hypothesis`` against the
    item's text, failed with the reason ``ztts1_eval.text.wer.score_transcript`` gives."""
    from ztts1_eval.text.wer import score_transcript

    values, failure = score_transcript(item.text, hypothesis, item.language, normalizer)
    return ScoreOutput(values=values, status="failed" if failure else "ok", reason=failure)


class Scorer(ABC):
    type_name: str = "scorer"
    info: ScorerInfo
    batch_size: int = 8

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Model id + revision or checksum, parameters, normalizer version."""

    def load(self) -> None:
        """Load models; called once, only when there is something to score."""

    @abstractmethod
    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        """One output per input, in order."""

    def close(self) -> None:
        """Drop models so the next scorer has the memory."""

    def set_reference_recordings(self, recordings: Sequence[tuple[str, Any, str]]) -> None:
        """(item id, path, sha256) of every real recording of the run, all shards alike; called
        before identity() for scorers whose info says ``fits_on_references``."""

    def attach_cache(self, cache: Any) -> None:
        """The run's content-addressed cache, for scorers that fit something worth sharing
        between processes (called before load())."""

    def noise_features(self) -> dict[str, Any] | None:
        """Distribution scorers: features of the deterministic noise sets, stored with the
        scorer's description so that tables can be rebuilt without the model. Called after load()."""
        return None

    def identity_hash(self) -> str:
        return json_sha256(self.identity())[:16]
