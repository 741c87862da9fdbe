"""Seeded random values for tiny official-format checkpoints, from a recorded key list.

numpy's PCG64 in key order, so a reference script run with the official code (in its own
environment) and the tests build the very same weights; only the key list and the official
outputs are stored in tests/data, not the weights. Numpy only, so reference scripts can import it.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def values(spec: Sequence[tuple[str, Sequence[int], str]], seed: int) -> dict[str, np.ndarray]:
    """Deterministic values for ``(key, shape, dtype)`` entries: weights scaled by fan-in, norm
    gains around 1, positive running variances, so that every tensor changes the output."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for key, shape, dtype in spec:
        shape = tuple(int(s) for s in shape)
        if dtype.startswith("int"):
            out[key] = np.zeros(shape, dtype=np.int64)
        elif key.endswith("running_var"):
            out[key] = (0.5 + rng.random(shape)).astype(np.float32)
        elif len(shape) >= 2:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
            out[key] = (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(np.float32)
        elif key.endswith("weight"):
            out[key] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[key] = (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return out
