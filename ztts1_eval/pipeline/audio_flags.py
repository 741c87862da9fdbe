"""Per-clip measurements and flags for audio that decodes but may mislead: it is scored as usual,
and the flags say why its numbers may mislead (a heavily clipped prompt, an 8-bit or 96 kHz file,
a stereo clip, a clip far shorter or longer than speech usually is).

Each prompt, ground-truth recording and output gets its numbers recorded (rate, channels, sample
format, duration, peak and RMS level in dBFS, share of samples at full scale and, with the
speech check on, seconds of speech); read once per distinct file, without resampling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.core import audio
from ztts1_eval.pipeline.score_cache import ScoreCache
from ztts1_eval.pipeline.speech_check import SpeechCheck

CLIPPED_LEVEL = 0.999  # |x| at or above this counts as full scale
CLIPPED_SHARE = 0.01  # more than 1 % of samples at full scale
LOW_BIT_FORMATS = {"PCM_U8", "PCM_S8", "ULAW", "ALAW"}
USUAL_RATES = (8000, 48000)  # inclusive
SHORT_S, LONG_S = 0.5, 30.0
FLOOR_DBFS = -200.0  # the level reported for digital silence


@dataclass
class Inspection:
    flags: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _dbfs(value: float) -> float:
    return round(max(20.0 * float(np.log10(value)) if value > 0 else FLOOR_DBFS, FLOOR_DBFS), 2)


def inspect_file(path: Path, speech: SpeechCheck | None = None, cache: ScoreCache | None = None) -> Inspection:
    """The clip's numbers and flags; an unreadable file gets none here (the decoder records its
    own failure)."""
    try:
        info = sf.info(str(path))
        samples, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError):
        return Inspection()
    sha256 = file_sha256(path) if speech is not None and cache is not None else None
    return inspect_samples(samples, info.samplerate, info.channels, info.subtype, speech, sha256, cache)


def inspect_samples(samples: np.ndarray, rate: int, channels: int = 1, subtype: str | None = None,
                    speech: SpeechCheck | None = None, sha256: str | None = None,
                    cache: ScoreCache | None = None) -> Inspection:
    x = np.asarray(samples, dtype=np.float32)
    if x.size and not np.all(np.isfinite(x)):  # audio.check records that failure in its own words
        return Inspection(stats={"sample_rate": int(rate), "channels": int(channels), "format": subtype})
    frames = x.shape[0]
    seconds = (frames / rate) if rate else 0.0
    magnitude = np.abs(x)
    clipped = float(np.mean(magnitude >= CLIPPED_LEVEL)) if x.size else 0.0
    stats: dict[str, Any] = {
        "sample_rate": int(rate), "channels": int(channels), "format": subtype, "duration_s": round(seconds, 4),
        "peak_dbfs": _dbfs(float(magnitude.max())) if x.size else FLOOR_DBFS,
        "rms_dbfs": _dbfs(float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))) if x.size else FLOOR_DBFS,
        "clipped_share": round(clipped, 4),
    }
    decodable = x.size and seconds >= audio.MIN_DURATION_S and float(magnitude.max()) >= audio.SILENCE_PEAK
    if speech is not None and decodable:  # silence and blips get audio.check's own reason
        mono = audio.Audio(x.mean(axis=1) if x.ndim == 2 else x, int(rate))
        stats["speech_s"] = round(speech.cached_speech_seconds(mono, sha256, cache) if sha256 else
                                  speech.speech_seconds(mono), 3)
    flags = []
    if clipped > CLIPPED_SHARE:
        flags.append(f"clipped {100 * clipped:.0f}%")
    if subtype in LOW_BIT_FORMATS:
        flags.append(f"8-bit ({subtype})")
    if channels > 1:
        flags.append(f"{channels} channels")
    if not USUAL_RATES[0] <= rate <= USUAL_RATES[1]:
        flags.append(f"{rate} Hz")
    if seconds < SHORT_S:
        flags.append(f"short ({seconds:.2f} s)")
    elif seconds > LONG_S:
        flags.append(f"long ({seconds:.0f} s)")
    return Inspection(flags, stats)
