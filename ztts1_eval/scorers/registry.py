"""Explicit registry of scorers: ``type -> "module:Class"``, imported lazily."""

from __future__ import annotations

from typing import Any

from ztts1_eval.registry import resolve
from ztts1_eval.scorers.base import Scorer

SCORERS: dict[str, str] = {
    "pocketsphinx_wer": "ztts1_eval.scorers.pocketsphinx_wer:PocketsphinxWER",
    "resemblyzer_sim": "ztts1_eval.scorers.resemblyzer_sim:ResemblyzerSimilarity",
    "dnsmos": "ztts1_eval.scorers.dnsmos:DNSMOS",
}


def create(scorer_type: str, options: dict[str, Any] | None = None) -> Scorer:
    cls = resolve(SCORERS, scorer_type, "scorer")
    return cls(**(options or {}))
