"""Bootstrap statistics for tables, comparisons and regression gates.

- ``bootstrap_ci``: percentile 95 % interval of a per-item mean (or of a ratio of sums, for the
  corpus error rate) with items resampled with replacement, ``RESAMPLES`` times, from
  ``default_rng(seed)``: the same inputs give the same interval on every machine.
- ``paired_difference``: the same for the mean of per-item differences of two runs on their
  common items (a paired bootstrap), with a verdict: the interval excludes 0 in the good or the
  bad direction, or it does not (no detectable change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

STATS_VERSION = "1"
RESAMPLES = 1000
SEED = 0
LEVEL = 0.95
_CHUNK = 200  # resamples per vectorized block (bounded memory for large groups)


def _resampled_means(values: np.ndarray, resamples: int, rng: np.random.Generator,
                     denominators: np.ndarray | None = None) -> np.ndarray:
    n = values.size
    out = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        if denominators is None:
            out[start:start + size] = values[idx].mean(axis=1)
        else:
            den = denominators[idx].sum(axis=1)
            out[start:start + size] = np.divide(values[idx].sum(axis=1), den, out=np.full(size, np.nan), where=den > 0)
    return out


def bootstrap_ci(values: Sequence[float], denominators: Sequence[float] | None = None, resamples: int = RESAMPLES,
                 seed: int = SEED, level: float = LEVEL) -> tuple[float, float] | None:
    """Percentile interval of mean(values), or of sum(values)/sum(denominators); None for
    fewer than two items."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return None
    den = None if denominators is None else np.asarray(denominators, dtype=np.float64)
    stats = _resampled_means(x, resamples, np.random.default_rng(seed), den)
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedResult:
    n: int
    mean_a: float
    mean_b: float
    delta: float  # mean(b - a)
    ci: tuple[float, float] | None
    verdict: str  # "better" | "worse" | "no detectable change" | "too few items"


def paired_difference(a: Sequence[float], b: Sequence[float], higher_is_better: bool, resamples: int = RESAMPLES,
                      seed: int = SEED, level: float = LEVEL, margin: float = 0.0) -> PairedResult:
    """B against A on the same items. ``better``/``worse`` when the interval of mean(b - a) lies
    entirely beyond ``margin`` in that direction."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("paired samples must have the same length")
    if x.size < 2:
        return PairedResult(int(x.size), float(x.mean()) if x.size else float("nan"),
                            float(y.mean()) if y.size else float("nan"), float((y - x).mean()) if x.size else float("nan"),
                            None, "too few items")
    diff = y - x
    ci = bootstrap_ci(diff, resamples=resamples, seed=seed, level=level)
    sign = 1.0 if higher_is_better else -1.0
    verdict = "no detectable change"
    if ci is not None:
        good_low, good_high = sorted((sign * ci[0], sign * ci[1]))
        if good_low > margin:
            verdict = "better"
        elif good_high < -margin:
            verdict = "worse"
    return PairedResult(int(x.size), float(x.mean()), float(y.mean()), float(diff.mean()), ci, verdict)
