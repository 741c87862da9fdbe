"""Audio I/O with explicit checks: every decoding, resampling and rejection happens here.

Scores are only as trustworthy as the audio fed to them, so a file that is unreadable, empty,
silent or non-finite raises :class:`BadAudio` with a reason the pipeline records per item.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io.wavfile
import soundfile as sf
import soxr

from ztts1_eval.core import atomic

# Peak below this (full scale = 1.0) is treated as silence: about -80 dBFS.
SILENCE_PEAK = 1e-4
MIN_DURATION_S = 0.05


class BadAudio(ValueError):
    """Audio that cannot be scored; the message is the per-item failure reason."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, mono, in [-1, 1]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate)


def read(path: str | os.PathLike) -> Audio:
    """Decode any format libsndfile reads (WAV, FLAC, OGG/Opus, MP3) to mono float32."""
    path = Path(path)
    if not path.is_file():
        raise BadAudio(f"missing audio file: {path}")
    if path.stat().st_size == 0:
        raise BadAudio(f"empty audio file (0 bytes): {path}")
    try:
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for corrupt data
        raise BadAudio(f"unreadable audio file {path}: {exc}") from exc
    return Audio(samples.mean(axis=1).astype(np.float32), int(rate))


def check(audio: Audio, what: str = "audio") -> Audio:
    """Reject audio that no scorer should see; return it unchanged otherwise."""
    if audio.sample_rate <= 0:
        raise BadAudio(f"{what}: invalid sample rate {audio.sample_rate}")
    if audio.samples.size == 0:
        raise BadAudio(f"{what}: no samples")
    if not np.all(np.isfinite(audio.samples)):
        raise BadAudio(f"{what}: contains NaN or Inf samples")
    if audio.duration_s < MIN_DURATION_S:
        raise BadAudio(f"{what}: too short ({audio.duration_s * 1000:.0f} ms < {MIN_DURATION_S * 1000:.0f} ms)")
    peak = float(np.max(np.abs(audio.samples)))
    if peak < SILENCE_PEAK:
        raise BadAudio(f"{what}: silent (peak {peak:.2e} < {SILENCE_PEAK:.0e})")
    return audio


def from_samples(samples: np.ndarray, sample_rate: int, what: str = "audio") -> Audio:
    """A system's samples as checked float mono: int16 PCM scaled by 1/32768, other integer
    types by their maximum, float as it is."""
    samples = np.asarray(samples)
    if np.issubdtype(samples.dtype, np.integer) and samples.dtype != np.int16:
        samples = (samples / float(np.iinfo(samples.dtype).max)).astype(np.float32)
    as_float = samples.astype(np.float32) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float32)
    if as_float.ndim != 1:
        raise BadAudio(f"{what}: {as_float.ndim}-D audio; expected mono")
    return check(Audio(as_float, int(sample_rate)), what=what)


def read_checked(path: str | os.PathLike, what: str = "audio") -> Audio:
    return check(read(path), what=f"{what} {path}")


def resample(audio: Audio, target_rate: int) -> Audio:
    """Explicit, high-quality resampling (soxr 'HQ'); clipping to [-1, 1] afterwards because
    the filter can overshoot and several scorers reject out-of-range input."""
    if audio.sample_rate == target_rate:
        return audio
    out = soxr.resample(audio.samples, audio.sample_rate, target_rate, quality="HQ")
    return Audio(np.clip(out, -1.0, 1.0).astype(np.float32), target_rate)


def to_wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Lossless WAV: int16 input stays 16-bit PCM, float input is stored as 32-bit float.

    scipy writes the same bytes for the same samples; libsndfile adds a PEAK chunk with a
    timestamp to float WAVs, which would change the file hash (and the score cache key) of
    identical audio on every run.
    """
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        samples = samples.astype(np.float32)
    buf = io.BytesIO()
    scipy.io.wavfile.write(buf, int(sample_rate), samples)
    return buf.getvalue()


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> None:
    atomic.write_bytes(path, to_wav_bytes(samples, sample_rate))
