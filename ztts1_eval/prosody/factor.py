"""TTSDS2 prosody factor of one group of items (a run, or its items of one language/subset).

Each benchmark compares the distribution of a per-utterance feature over the group's outputs
with the same feature over the group's real recordings (``gt_wav``: the source recordings of the
same subset and language) and over each noise set; S = 100 * D_noise / (D_ref + D_noise). The
factor is the unweighted mean of the benchmarks that could be computed, and says which.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ztts1_eval.prosody.distances import frechet_squared, ttsds_score, wasserstein2_1d
from ztts1_eval.prosody.frame_stats import pooled_gaussian

# benchmark -> per-item feature column (the real recording's value is "<column>_ref")
FEATURES = {"pitch": "f0_mean", "hubert_unit_rate": "hubert_unit_rate", "allosaurus_rate": "phone_rate",
            "mpm": "mpm_frames"}
# N-dimensional benchmarks: the column holds references to frame summaries (frame_stats), and
# the distance is the Fréchet distance of the pooled Gaussians.
N_DIMENSIONAL = {"mpm"}
# A benchmark whose feature comes from one of several models by language (TTSDS2 multilingual:
# HuBERT base for English, mHuBERT-147 for the rest): a group is scored on the one it has.
ALTERNATIVE_COLUMNS = {"hubert_unit_rate": ("hubert_unit_rate", "mhubert_unit_rate")}
MIN_ITEMS = 2
SUBSAMPLE_SEED = 0


def benchmark_score_nd(outputs: list[np.ndarray], references: list[np.ndarray],
                       noise: dict[str, list[np.ndarray]]) -> dict[str, Any]:
    """Fréchet distances of the pooled frame Gaussians (TTSDS stacks all frames of a set)."""
    out_mean, out_cov, out_frames = pooled_gaussian(outputs)
    ref_mean, ref_cov, ref_frames = pooled_gaussian(references)
    d_ref = frechet_squared((out_mean, out_cov), (ref_mean, ref_cov))
    d_noise = {}
    for name, summaries in sorted(noise.items()):
        mean, cov, _ = pooled_gaussian(summaries)
        d_noise[name] = frechet_squared((out_mean, out_cov), (mean, cov))
    closest = min(d_noise, key=d_noise.get)
    return {"score": ttsds_score([d_ref], list(d_noise.values())), "d_ref": d_ref, "d_noise": d_noise[closest],
            "closest_noise": closest, "frames": out_frames, "frames_ref": ref_frames}


def benchmark_score(outputs: pd.Series, references: pd.Series, noise: dict[str, list[float]]) -> dict[str, Any]:
    d_ref = wasserstein2_1d(outputs, references, SUBSAMPLE_SEED)
    d_noise = {name: wasserstein2_1d(outputs, values, SUBSAMPLE_SEED) for name, values in sorted(noise.items())}
    closest = min(d_noise, key=d_noise.get)
    return {"score": ttsds_score([d_ref], list(d_noise.values())), "d_ref": d_ref, "d_noise": d_noise[closest],
            "closest_noise": closest}


def ttsds2_cell(ok: pd.DataFrame, meta: dict[str, Any],
                load_array: Callable[[str], np.ndarray] | None = None) -> dict[str, Any]:
    """The aggregate cell: ``mean`` is the factor; ``benchmarks`` holds each S and its distances.
    ``load_array`` reads the frame summaries of N-dimensional benchmarks."""
    noise = meta.get("noise_features") or {}
    wanted = meta.get("identity", {}).get("benchmarks", list(FEATURES))
    benchmarks, skipped = {}, {}
    for name in wanted:
        column = FEATURES.get(name)
        if name in ALTERNATIVE_COLUMNS:
            present = [c for c in ALTERNATIVE_COLUMNS[name] if c in ok and ok[c].notna().any()]
            if len(present) > 1:
                skipped[name] = (f"the group mixes {' and '.join(present)} (models differ by language): "
                                 "scored per language only")
                continue
            column = present[0] if present else column
        if column is None or column not in ok or f"{column}_ref" not in ok:
            skipped[name] = "no features"
            continue
        if name in N_DIMENSIONAL:  # references to frame summaries
            outputs, references = ok[column].dropna(), ok[f"{column}_ref"].dropna()
        else:
            outputs = pd.to_numeric(ok[column], errors="coerce").dropna()
            references = pd.to_numeric(ok[f"{column}_ref"], errors="coerce").dropna()
        if len(outputs) < MIN_ITEMS or len(references) < MIN_ITEMS:
            skipped[name] = f"fewer than {MIN_ITEMS} items"
            continue
        if not noise.get(column):
            skipped[name] = "noise features missing (scorer did not finish)"
            continue
        if name in N_DIMENSIONAL:
            if load_array is None:
                skipped[name] = "frame summaries not readable here (no array store)"
                continue
            benchmarks[name] = benchmark_score_nd([load_array(r) for r in outputs],
                                                  [load_array(r) for r in references],
                                                  {k: [load_array(r) for r in v] for k, v in noise[column].items()})
            continue
        benchmarks[name] = {**benchmark_score(outputs, references, noise[column]), "feature": column}
    scores = [b["score"] for b in benchmarks.values() if b["score"] is not None]
    return {
        "n": int(len(ok)),
        "mean": sum(scores) / len(scores) if scores else None,
        "averaged": sorted(name for name, b in benchmarks.items() if b["score"] is not None),
        "benchmarks": benchmarks,
        "skipped": skipped,
        "reference": "the items' own real recordings (gt_wav) in this group",
    }
