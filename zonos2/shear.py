"""The codebook delay ("shear") pattern and the 17-frame DAC silence that ends every prompt."""

from __future__ import annotations

import numpy as np

PAD = 1025

# Source (unsheared) DAC codes of 0.2 s of silence, cb0..cb8 per row (reference §3.6).
_ROW0 = [568, 778, 338, 524, 967, 360, 728, 550, 90]
_ROW1 = [568, 778, 10, 674, 364, 981, 741, 378, 731]
_MIDDLE = [568, 804, 10, 674, 364, 981, 568, 378, 731]
_ROW16 = [568, 778, 721, 842, 264, 974, 989, 507, 308]
SILENCE_CODES = np.array([_ROW0, _ROW1] + [_MIDDLE] * 14 + [_ROW16], dtype=np.int64)


def shear(block: np.ndarray, pad: int = PAD) -> np.ndarray:
    """Delay codebook c by c frames without lengthening: out[t, c] = block[t - c, c] (pad if t < c)."""
    rows, cols = block.shape
    out = np.full_like(block, pad)
    for c in range(cols):
        if c < rows:
            out[c:, c] = block[: rows - c, c]
    return out


def deshear(frames: np.ndarray, pad: int = PAD) -> np.ndarray:
    """Inverse: out[i, c] = frames[i + c, c] for i < rows - c, pad otherwise."""
    rows, cols = frames.shape
    out = np.full_like(frames, pad)
    for c in range(cols):
        if c < rows:
            out[: rows - c, c] = frames[c:, c]
    return out
