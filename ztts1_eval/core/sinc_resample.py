"""torchaudio's default resampler (``torchaudio.transforms.Resample``: windowed sinc, Hann window,
``lowpass_filter_width=6``, ``rolloff=0.99``), for scorers whose reference script resamples with it.

Written here because torchaudio cannot be installed beside our torch (library notes), and soxr
gives slightly different samples; ``scripts/unispeech_sv_reference.py`` records torchaudio's
output on real speech and tests/test_unispeech_sim.py compares.
"""

from __future__ import annotations

import math

import numpy as np

LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def _kernel(orig: int, new: int):
    import torch

    base = min(orig, new) * ROLLOFF
    width = math.ceil(LOWPASS_FILTER_WIDTH * orig / base)
    idx = torch.arange(-width, width + orig, dtype=torch.float64)[None, None] / orig
    t = (torch.arange(0, -new, -1, dtype=torch.float64)[:, None, None] / new + idx) * base
    t = t.clamp(-LOWPASS_FILTER_WIDTH, LOWPASS_FILTER_WIDTH)
    window = torch.cos(t * math.pi / LOWPASS_FILTER_WIDTH / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t) * window * (base / orig)
    return kernel.to(torch.float32), width


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Mono float samples from ``orig_rate`` to ``new_rate``; the output has
    ``ceil(len * new / orig)`` samples, as torchaudio's."""
    if orig_rate == new_rate:
        return np.asarray(samples, dtype=np.float32)
    import torch

    gcd = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // gcd, int(new_rate) // gcd
    kernel, width = _kernel(orig, new)
    wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, None]
    padded = torch.nn.functional.pad(wav, (width, width + orig))
    with torch.inference_mode():
        out = torch.nn.functional.conv1d(padded, kernel, stride=orig).transpose(1, 2).reshape(-1)
    length = math.ceil(new * wav.shape[-1] / orig)
    return out[:length].numpy()
