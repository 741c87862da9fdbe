"""Kaldi filterbank features without torchaudio: the models whose reference code calls
``torchaudio.compliance.kaldi.fbank`` (FunASR's Paraformer, 3D-Speaker's ERes2Net) get them from
kaldi-native-fbank, a small C++ implementation of Kaldi's ``compute-fbank-feats``."""

from __future__ import annotations

import numpy as np


def kaldi_fbank(samples: np.ndarray, rate: int, n_mels: int, frame_length_ms: float = 25.0,
                frame_shift_ms: float = 10.0, window: str = "povey", dither: float = 0.0, snip_edges: bool = True,
                scale: float = 1.0) -> np.ndarray:
    """``torchaudio.compliance.kaldi.fbank(samples * scale, ...)`` with its defaults (remove DC,
    pre-emphasis 0.97, FFT size rounded up to a power of two, mel bins from 20 Hz to Nyquist, log
    power), computed by kaldi-native-fbank: ``[frames, n_mels]``."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = rate
    opts.frame_opts.frame_length_ms = frame_length_ms
    opts.frame_opts.frame_shift_ms = frame_shift_ms
    opts.frame_opts.dither = dither
    opts.frame_opts.window_type = window
    opts.frame_opts.snip_edges = snip_edges
    opts.mel_opts.num_bins = n_mels
    opts.energy_floor = 0.0
    fbank = knf.OnlineFbank(opts)
    fbank.accept_waveform(rate, (np.asarray(samples, dtype=np.float32) * scale).tolist())
    fbank.input_finished()
    if fbank.num_frames_ready == 0:
        return np.zeros((0, n_mels), dtype=np.float32)
    return np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32)
