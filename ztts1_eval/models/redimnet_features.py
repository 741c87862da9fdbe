"""ReDimNet's spectral front ends, without torchaudio.

The released checkpoints store the front end's buffers (window, mel matrix or DFT kernels) in
their state dicts under the official module paths, so these modules keep those paths:

- ``feat_type="pt"``: ``spec.torchfbank.{0: signal normalization, 1: pre-emphasis,
  2: torchaudio-style MelSpectrogram (.spectrogram.window, .mel_scale.fb)}``; power spectrum by
  ``torch.stft`` (centered, reflect padding), HTK mel matrix without area normalization (the same
  triangles as ``librosa.filters.mel(htk=True, norm=None)``), ``log(x + 1e-6)``, per-band mean removal.
- ``feat_type="tf"``: a DFT written as two convolutions (frames padded by hop/2 on both sides,
  symmetric Hamming window, the Nyquist bin dropped) followed by a mel matrix whose bin
  frequencies follow the official TensorFlow-port quirk (``linspace(0, sr/2, n_fft/2)``).
- ``feat_type="tf_spec"``: the same DFT, log power, frequency pairs averaged.

The forward passes read the buffers loaded from the checkpoint, so a model computes exactly
the features it was trained with.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.signal
import torch
from torch import nn
from torch.nn import functional as F


class NormalizeSignal(nn.Module):
    """Zero mean, unit variance per utterance (``norm_signal``)."""

    def __init__(self, eps: float, keep_channel_dim: bool):
        super().__init__()
        self.eps = eps
        self.keep_channel_dim = keep_channel_dim  # the pt variant keeps (B, 1, T), the tf one squeezes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(1)
        x = (x - x.mean(dim=2, keepdim=True)) / (x.std(dim=2, keepdim=True, unbiased=False) + self.eps)
        return x if self.keep_channel_dim else x.squeeze(1)


class PreEmphasis(nn.Module):
    """y[t] = x[t] - coef * x[t-1], with x[-1] = x[1] (reflect padding), as the official code."""

    def __init__(self, coef: float = 0.97):
        super().__init__()
        self.register_buffer("flipped_filter", torch.tensor([[[-coef, 1.0]]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(1)
        return F.conv1d(F.pad(x, (1, 0), "reflect"), self.flipped_filter).squeeze(1)


class PowerSpectrogram(nn.Module):
    """|STFT|^2, centered frames with reflect padding (torchaudio ``Spectrogram`` defaults)."""

    def __init__(self, n_fft: int, win_length: int, hop_length: int):
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.register_buffer("window", torch.hamming_window(win_length))  # periodic, as torch.hamming_window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        spec = torch.stft(x.reshape(-1, shape[-1]), self.n_fft, self.hop_length, self.win_length, self.window,
                          center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
        spec = spec.abs().pow(2.0)
        return spec.reshape(shape[:-1] + spec.shape[-2:])


class MelProjection(nn.Module):
    def __init__(self, fb: np.ndarray):
        super().__init__()
        self.register_buffer("fb", torch.from_numpy(np.ascontiguousarray(fb, dtype=np.float32)))  # (freqs, mels)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(nn.Module):
    def __init__(self, sample_rate: int, n_fft: int, win_length: int, hop_length: int, f_min: float,
                 f_max: float, n_mels: int):
        super().__init__()
        self.spectrogram = PowerSpectrogram(n_fft, win_length, hop_length)
        fb = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=True,
                                 norm=None, dtype=np.float64).T
        self.mel_scale = MelProjection(fb)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mel_scale(self.spectrogram(x))


class MelBanks(nn.Module):
    """``feat_type="pt"``: log mel energies, mean removed per band."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, win_length: int = 400, hop_length: int = 160,
                 f_min: float = 20, f_max: float = 7600, n_mels: int = 80, do_spec_aug: bool = False,
                 norm_signal: bool = False, do_preemph: bool = True, spec_norm: str = "mn", freq_start_bin: int = 0,
                 num_apply_spec_aug: int = 1, freq_mask_width=(0, 8), time_mask_width=(0, 10)):
        super().__init__()
        # SpecAugment options only act in training; they are accepted so released configs construct.
        self.torchfbank = nn.Sequential(
            NormalizeSignal(1e-6, keep_channel_dim=True) if norm_signal else nn.Identity(),
            PreEmphasis() if do_preemph else nn.Identity(),
            MelSpectrogram(sample_rate, n_fft, win_length, hop_length, f_min, f_max, n_mels),
        )
        if spec_norm not in ("mn", "mvn", "bn"):
            spec_norm = "none"
        self.spec_norm_kind = spec_norm
        if spec_norm == "bn":
            self.spec_norm = nn.BatchNorm1d(n_mels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.torchfbank(x.float()) + 1e-6)
        if self.spec_norm_kind == "mn":
            x = x - x.mean(dim=-1, keepdim=True)
        elif self.spec_norm_kind == "mvn":
            x = (x - x.mean(dim=-1, keepdim=True)) / (x.std(dim=-1, keepdim=True) + 1e-8)
        elif self.spec_norm_kind == "bn":
            x = self.spec_norm(x)
        return x


def tf_mel_matrix(n_mels: int, half_fft: int, sample_rate: int, f_min: float, f_max: float) -> np.ndarray:
    """The TF-port mel matrix, (half_fft, n_mels): first row zero, the rest on linspace(0, sr/2, half_fft)[1:]."""
    hz2mel = lambda hz: 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)  # noqa: E731
    edges = np.linspace(hz2mel(f_min), hz2mel(f_max), n_mels + 2)
    bins = hz2mel(np.linspace(0, sample_rate // 2, half_fft))[1:, None]
    rising = (bins - edges[None, :-2]) / (edges[1:-1] - edges[:-2])[None]
    falling = (edges[None, 2:] - bins) / (edges[2:] - edges[1:-1])[None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, n_mels)), weights]).astype(np.float32)


class ConvDFT(nn.Module):
    """Power (and optionally mel) spectrum by strided convolution with windowed DFT kernels."""

    def __init__(self, frame_length: int, frame_step: int, fft_length: int, sample_rate: int, window: str,
                 f_min: float, f_max: float, n_mels: int | None, eps: float):
        super().__init__()
        self.frame_step, self.eps = frame_step, eps
        if window == "hamming":
            win = scipy.signal.windows.hamming(frame_length)  # symmetric, as in the official TF port
        elif window in ("hann", "hanning"):
            win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / (frame_length - 1))
        else:
            win = np.ones(frame_length)
        n = np.arange(frame_length)[:, None]
        k = np.arange(fft_length // 2)[None, :]
        phase = 2 * np.pi * ((n * k) % fft_length) / fft_length
        # (bins, 1, frame_length): one output channel per frequency bin.
        real = (np.cos(phase).astype(np.float32) * win.astype(np.float32)[:, None]).T[:, None, :]
        imag = (np.sin(phase).astype(np.float32) * win.astype(np.float32)[:, None]).T[:, None, :]
        self.register_buffer("real_kernel_pt", torch.from_numpy(np.ascontiguousarray(real)))
        self.register_buffer("image_kernel_pt", torch.from_numpy(np.ascontiguousarray(imag)))
        self.with_mels = n_mels is not None
        if self.with_mels:
            mel = tf_mel_matrix(n_mels, fft_length // 2, sample_rate, f_min, f_max)
            self.register_buffer("melbanks_pt", torch.from_numpy(mel.T[:, :, None].copy()))  # (mels, bins, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(1)
        pad = self.frame_step // 2
        real = F.conv1d(x, self.real_kernel_pt, stride=self.frame_step, padding=pad)
        imag = F.conv1d(x, self.image_kernel_pt, stride=self.frame_step, padding=pad)
        power = (real.square() + imag.square()).clip(self.eps, 1 / self.eps)
        if not self.with_mels:
            return power
        return F.conv1d(power, self.melbanks_pt).clip(self.eps, 1 / self.eps)


class TFMelBanks(nn.Module):
    """``feat_type="tf"``: log mel energies from the conv DFT, mean removed per band."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, win_length: int = 400, hop_length: int = 160,
                 f_min: float = 20, f_max: float = 7600, n_mels: int = 80, do_spec_aug: bool = False,
                 norm_signal: bool = False, do_preemph: bool = True, freq_start_bin: int = 0,
                 freq_mask_width=(0, 8), time_mask_width=(0, 10), eps: float = 1e-8):
        super().__init__()
        self.eps = eps
        self.torchfbank = nn.Sequential(
            NormalizeSignal(eps, keep_channel_dim=False) if norm_signal else nn.Identity(),
            PreEmphasis() if do_preemph else nn.Identity(),
            ConvDFT(win_length, hop_length, n_fft, sample_rate, "hamming", f_min, f_max, n_mels, eps),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.torchfbank(x.float()) + self.eps)
        return x - x.mean(dim=-1, keepdim=True)


class TFSpectrogram(nn.Module):
    """``feat_type="tf_spec"``: log power spectrum, mean removed, adjacent bins averaged."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, win_length: int = 400, hop_length: int = 160,
                 f_min: float = 20, f_max: float = 7600, n_mels: int = 80, window: str = "hamming",
                 normalize_spectrogram: bool = False, normalize_signal: bool = False, mode: str = "fft",
                 fft_mode: str = "abs", pool_freqs=(2, 1), do_spec_aug: bool = False, norm_signal: bool = False,
                 do_preemph: bool = True, freq_start_bin: int = 0, num_apply_spec_aug: int = 1,
                 freq_mask_width=(0, 8), time_mask_width=(0, 10), eps: float = 1e-8):
        super().__init__()
        if mode != "fft" or normalize_spectrogram or normalize_signal or fft_mode != "abs":
            raise ValueError("tf_spec: only the released setting (mode='fft', fft_mode='abs', no extra "
                             "normalization) is implemented")
        self.eps = eps
        self.spectrogram = nn.Sequential(
            NormalizeSignal(1e-10, keep_channel_dim=False) if norm_signal else nn.Identity(),
            PreEmphasis() if do_preemph else nn.Identity(),
            ConvDFT(win_length, hop_length, n_fft, sample_rate, window, f_min, f_max, None, eps),
        )
        self.pool_freqs = tuple(pool_freqs) if pool_freqs is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.spectrogram(x.float()) + self.eps)
        x = (x - x.mean(dim=-1, keepdim=True)).unsqueeze(1)
        return F.avg_pool2d(x, self.pool_freqs, stride=self.pool_freqs) if self.pool_freqs else x


def build_front_end(feat_type: str, n_mels: int, hop_length: int, spec_params: dict) -> nn.Module:
    if feat_type in ("pt", "pt_mel"):
        return MelBanks(n_mels=n_mels, hop_length=hop_length, **spec_params)
    if feat_type in ("tf", "tf_mel"):
        return TFMelBanks(n_mels=n_mels, hop_length=hop_length, **spec_params)
    if feat_type == "tf_spec":
        return TFSpectrogram(**spec_params)
    raise ValueError(f"unknown ReDimNet feat_type {feat_type!r} (known: pt, pt_mel, tf, tf_mel, tf_spec)")
