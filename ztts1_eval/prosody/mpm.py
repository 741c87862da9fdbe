"""MPM, the N-dimensional TTSDS2 prosody benchmark: hidden states of the Masked Prosody Model.

Inputs, as TTSDS2 computes them at 22.05 kHz on at most 1000 frames (hop 256):
- pitch: WORLD DIO + StoneMask (float32), unvoiced frames linearly interpolated (all-unvoiced ->
  1e-6), clipped to [50, 300] Hz and divided by 250;
- energy: RMS over 1024-sample frames (librosa, centred), clipped to [0, 0.2] and divided by 0.2;
- voice activity: 1 where WORLD found F0, else 0;
- pitch and energy bucketized on ``linspace(0, 1, 128)`` (torch.bucketize semantics: index of the
  first boundary >= value), voice activity on ``[0, 1]``.
Features are the frames of layer 7 (0-based) of the model; a group's distribution is all of its
frames stacked, kept per item as a frame summary (ztts1_eval.prosody.frame_stats).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ztts1_eval.prosody import frame_stats, pitch

MPM_VERSION = "1"
SAMPLE_RATE = pitch.SAMPLE_RATE
HOP = 256
ENERGY_WINDOW = 1024
MAX_FRAMES = 1000
PITCH_RANGE = (50.0, 300.0)
ENERGY_RANGE = (0.0, 0.2)
BOUNDARIES = np.linspace(0.0, 1.0, 128, dtype=np.float32)


def _interpolate_nan(x: np.ndarray) -> np.ndarray:
    missing = np.isnan(x)
    if missing.any() and not missing.all():
        idx = np.arange(x.size)
        x[missing] = np.interp(idx[missing], idx[~missing], x[~missing])
    return x


def tokens(samples: np.ndarray) -> np.ndarray:
    """(3, frames) int64 model input for 22.05 kHz audio."""
    import librosa

    f0 = pitch.f0_contour(samples).astype(np.float32)  # first MAX_FRAMES frames
    voiced = f0 >= 1e-6
    contour = np.where(voiced, f0, np.nan).astype(np.float32)
    contour = np.full_like(contour, 1e-6) if not voiced.any() else _interpolate_nan(contour)
    energy = librosa.feature.rms(y=np.asarray(samples, dtype=np.float32), frame_length=ENERGY_WINDOW,
                                 hop_length=HOP, center=True).astype(np.float32).reshape(-1)[:MAX_FRAMES]
    low, high = PITCH_RANGE
    pitch_scaled = np.clip(contour, low, high) / np.float32(high - low)
    low, high = ENERGY_RANGE
    energy_scaled = np.clip(energy, low, high) / np.float32(high - low)
    frames = min(pitch_scaled.size, energy_scaled.size, voiced.size)
    return np.stack([
        np.searchsorted(BOUNDARIES, pitch_scaled[:frames], side="left"),
        np.searchsorted(BOUNDARIES, energy_scaled[:frames], side="left"),
        np.searchsorted(np.array([0.0, 1.0], dtype=np.float32), voiced[:frames].astype(np.float32), side="left"),
    ]).astype(np.int64)


class MPMFeatures:
    """Frame summaries of one layer of a local Masked Prosody Model release."""

    def __init__(self, model_dir: Path, layer: int = 7, device: str = "cpu"):
        import torch

        from ztts1_eval.models import masked_prosody

        self.model, self.config = masked_prosody.load(model_dir)
        if not 0 <= layer < self.model.n_layers:
            raise ValueError(f"MPM layer {layer} does not exist ({model_dir} has {self.model.n_layers} layers)")
        if self.model.bins + 1 < BOUNDARIES.size:
            raise ValueError(f"MPM with {self.model.bins} bins cannot embed {BOUNDARIES.size + 1} input buckets")
        self.model.to(device)
        self.layer, self.device, self._torch = layer, device, torch

    def frames(self, samples: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(tokens(samples))[None].to(self.device)
            return self.model.representations(x, self.layer)[0].float().cpu().numpy()

    def summary(self, samples: np.ndarray) -> np.ndarray:
        return frame_stats.summarize(self.frames(samples))
