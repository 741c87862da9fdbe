"""The one interface every TTS system implements.

A system receives a batch of :class:`SynthesisRequest` and returns one
:class:`SynthesisResult` per request, in order. Per-item problems become a result with
``status="failed"`` and a reason; only problems that make the whole system unusable
(missing binary, model or credentials) raise :class:`SystemUnavailable`, at construction.
"""

from __future__ import annotations

import time
from abc import ABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


class SystemUnavailable(RuntimeError):
    """The system cannot run here; the message says what to install or provide."""


@dataclass(frozen=True)
class SynthesisRequest:
    item_id: str
    text: str
    language: str
    prompt_wav: Path | None
    prompt_text: str | None
    seed: int
    gt_wav: Path | None = None


@dataclass
class SynthesisResult:
    item_id: str
    status: str  # "ok" | "failed"
    samples: np.ndarray | None = None
    sample_rate: int | None = None
    latency_s: float | None = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, item_id: str, error: str, latency_s: float | None = None) -> "SynthesisResult":
        return cls(item_id=item_id, status="failed", error=error, latency_s=latency_s)


@dataclass(frozen=True)
class Capabilities:
    clones_from_audio: bool
    needs_prompt_text: bool
    languages: frozenset[str] | None  # None: any language
    seedable: bool
    native_sample_rate: int | None  # None: varies per item (e.g. ground truth)
    # Continues the prompt audio (prompt text + target text spoken on from the prompt clip), as
    # continuation items (meta ``mode: continuation``, CV3-Eval's subjective continuation) need.
    continues_prompt: bool = False

    def supports(self, language: str) -> bool:
        return self.languages is None or language in self.languages

    def to_json(self) -> dict[str, Any]:
        return {
            "clones_from_audio": self.clones_from_audio,
            "needs_prompt_text": self.needs_prompt_text,
            "languages": sorted(self.languages) if self.languages is not None else None,
            "seedable": self.seedable,
            "native_sample_rate": self.native_sample_rate,
            "continues_prompt": self.continues_prompt,
        }


class TTSSystem(ABC):
    """Base class; subclasses set ``capabilities`` and implement ``synthesize_one`` or
    override ``synthesize`` for true batching."""

    name: str = "system"
    capabilities: Capabilities
    # Safe to call ``synthesize`` from several threads at once (``ztts1-eval speed`` load levels);
    # a system with one model or one worker pipe is called one request at a time.
    thread_safe: bool = False

    def describe(self) -> dict[str, Any]:
        """Provenance: everything that decides what this system outputs."""
        return {"name": self.name, "capabilities": self.capabilities.to_json()}

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[SynthesisResult]:
        results = []
        for request in requests:
            start = time.perf_counter()
            try:
                result = self.synthesize_one(request)
            except SystemUnavailable:
                raise
            except Exception as exc:  # one bad item must not lose the batch
                result = SynthesisResult.failed(request.item_id, f"{type(exc).__name__}: {exc}")
            if result.latency_s is None:
                result.latency_s = time.perf_counter() - start
            results.append(result)
        return results

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        raise NotImplementedError(f"{type(self).__name__} implements neither synthesize nor synthesize_one")

    def self_checks(self, speech: Sequence[tuple[np.ndarray, int]], other: tuple[np.ndarray, int]) -> list[dict[str, Any]]:
        """Checks of the system's own components for ``ztts1-eval doctor``, given two clips of one
        speaker and one of another (samples, rate): dicts with ``check``, ``value`` (text),
        ``measured`` (a number), ``range_key`` (its minimum in conf/doctor.yaml's ranges) and
        ``message`` (what to suspect when below). None by default; a system whose parts can be
        wrong on their own (a codec, a speaker encoder) adds its own."""
        return []

    def close(self) -> None:
        """Release models or connections."""
