"""TTSDS2 prosody factor of one group of items (a run, or its items of one language/subset).

Each benchmark compares the distribution of a per-utterance feature over the group's outputs
with the same feature over the group's real recordings (``gt_wav``: the source recordings of the
same subset and language) and over each noise set; S = 100 * D_noise / (D_ref + D_noise). The
factor is the unweighted mean of the benchmarks that could be computed, and says which.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ztts1_eval.prosody.distances import ttsds_score, wasserstein2_1d

# benchmark -> per-item feature column (the real recording's value is "<column>_ref")
FEATURES = {"pitch": "f0_mean", "hubert_unit_rate": "hubert_unit_rate"}
MIN_ITEMS = 2
SUBSAMPLE_SEED = 0


def benchmark_score(outputs: pd.Series, references: pd.Series, noise: dict[str, list[float]]) -> dict[str, Any]:
    d_ref = wasserstein2_1d(outputs, references, SUBSAMPLE_SEED)
    d_noise = {name: wasserstein2_1d(outputs, values, SUBSAMPLE_SEED) for name, values in sorted(noise.items())}
    closest = min(d_noise, key=d_noise.get)
    return {"score": ttsds_score([d_ref], list(d_noise.values())), "d_ref": d_ref, "d_noise": d_noise[closest],
            "closest_noise": closest}


def ttsds2_cell(ok: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """The aggregate cell: ``mean`` is the factor; ``benchmarks`` holds each S and its distances."""
    noise = meta.get("noise_features") or {}
    wanted = meta.get("identity", {}).get("benchmarks", list(FEATURES))
    benchmarks, skipped = {}, {}
    for name in wanted:
        column = FEATURES.get(name)
        if column is None or column not in ok or f"{column}_ref" not in ok:
            skipped[name] = "no features"
            continue
        outputs = pd.to_numeric(ok[column], errors="coerce").dropna()
        references = pd.to_numeric(ok[f"{column}_ref"], errors="coerce").dropna()
        if len(outputs) < MIN_ITEMS or len(references) < MIN_ITEMS:
            skipped[name] = f"fewer than {MIN_ITEMS} items"
            continue
        if not noise.get(column):
            skipped[name] = "noise features missing (scorer did not finish)"
            continue
        benchmarks[name] = benchmark_score(outputs, references, noise[column])
    scores = [b["score"] for b in benchmarks.values() if b["score"] is not None]
    return {
        "n": int(len(ok)),
        "mean": sum(scores) / len(scores) if scores else None,
        "averaged": sorted(name for name, b in benchmarks.items() if b["score"] is not None),
        "benchmarks": benchmarks,
        "skipped": skipped,
        "reference": "the items' own real recordings (gt_wav) in this group",
    }
