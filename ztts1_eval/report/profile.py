"""The paper profile: the ZONOS2 report's table conventions, in one place.

Tables, figures, the published rows and the aggregates read these; a report with other
conventions changes this module only.

- sections: the row groups of Tables III/IV, in order;
- columns: an item's table column (its language, or its hard subset) and the column order;
- published: which of our metric fields the report printed, under which name, and which scorer
  type computed its numbers (deltas to the paper are exact only with that scorer);
- distribution aggregators: metrics whose group value is a distance between feature
  distributions, not a mean ("module:function" names, imported when used);
- figures: which metric each figure draws, by field name or aggregator (never by the slot name a
  config chose, so renaming a scorer slot keeps the figure).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

SECTION_ORDER = ["Reference", "Baselines", "Open-source models", "Closed-source models"]

# Table III (Clean) and Table IV (in-the-wild) column order; other columns follow alphabetically.
COLUMN_ORDER = [
    "en", "hard_en", "zh", "hard_zh", "de", "es", "fr", "it", "ja", "ko", "ru",
    "ar", "hi", "id", "pl", "pt", "th", "tl", "tr",
]

# our metric field -> the report's metric name (ztts1-published.csv)
# Table VII's DNSMOS is CV3-Eval's, the P.808 model's MOS (not P.835 OVRL)
PUBLISHED_METRICS = {"wer": "WER", "utmos": "UTMOS", "sim": "Spk. sim.", "dnsmos_p808": "DNSMOS",
                     "emo_acc": "Emo. acc."}
# the report's numbers for each field come from this scorer type
PAPER_SCORERS = {"wer": "qwen3_asr", "utmos": "msr_utmos", "sim": "redimnet"}
# Table VII's numbers come from each benchmark's own protocol stack (conf/scorers/seedtts.yaml, cv3.yaml)
PROTOCOL_SCORERS = {
    "VII_Seed-TTS-Eval": {"wer": "by_language", "sim": "unispeech_wavlm_ecapa"},
    "VII_CosyVoice_3_Eval": {"wer": "by_language", "sim": "eres2net_sim", "dnsmos_p808": "dnsmos",
                             "emo_acc": "emotion2vec"},
}


def paper_scorer(published_table: str, field: str) -> str | None:
    """The scorer type the report's number for ``field`` in ``published_table`` was measured with."""
    return PROTOCOL_SCORERS.get(published_table, PAPER_SCORERS).get(field)

DISTRIBUTION_AGGREGATORS = {"ttsds2": "ztts1_eval.prosody.factor:ttsds2_cell"}

# figure -> the metric it draws: {"field": name} or {"distribution": aggregator}
FIGURES: dict[str, dict[str, str]] = {
    "prosody_by_system": {"distribution": "ttsds2"},  # report Fig. 5
    "dswed_by_system": {"field": "dswed"},  # report Fig. 6
    "speaker_similarity_distribution": {"field": "sim"},
    "wer_vs_ground_truth": {"field": "wer"},  # the blog's per-language WER against ground truth
    # report Fig. 7: the phone rates (Allosaurus) the prosody factor's slot stores per item
    "speaking_rate_distance": {"distribution": "ttsds2"},
}


def table_column(subset: str, language: str) -> str:
    """An item's table column: its language, except the hard subsets (Table III: en, hard_en, zh,
    hard_zh, ...) and CV3-Eval's cross-lingual targets (Table VII: to_en, to_hard_en, ...), which
    are columns of their own."""
    return subset if subset.startswith(("hard_", "to_")) else language


def column_sort_key(column: str) -> tuple[int, str]:
    if column in COLUMN_ORDER:
        return (COLUMN_ORDER.index(column), column)
    return (len(COLUMN_ORDER), column)


def section_rank(section: str | None) -> int:
    return SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)


def distribution_aggregator(name: str) -> Callable[..., dict[str, Any]]:
    if name not in DISTRIBUTION_AGGREGATORS:
        raise ValueError(f"unknown distribution aggregator {name!r} (known: {sorted(DISTRIBUTION_AGGREGATORS)})")
    module, function = DISTRIBUTION_AGGREGATORS[name].split(":")
    return getattr(importlib.import_module(module), function)
