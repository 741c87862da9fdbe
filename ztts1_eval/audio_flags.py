"""Per-clip flags for audio that decodes but is suspicious: it is scored as usual, and the flags
say why its numbers may mislead (a heavily clipped prompt, an 8-bit or 96 kHz file, a stereo
clip, a clip far shorter or longer than speech usually is).

Read once per distinct file, without resampling: the header gives rate, channels, sample format
and duration; the samples give the share of samples at full scale (clipping).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

FLAGS_VERSION = "1"
CLIPPED_LEVEL = 0.999  # |x| at or above this counts as full scale
CLIPPED_SHARE = 0.01  # more than 1 % of samples at full scale
LOW_BIT_FORMATS = {"PCM_U8", "PCM_S8", "ULAW", "ALAW"}
USUAL_RATES = (8000, 48000)  # inclusive
SHORT_S, LONG_S = 0.5, 30.0


def file_flags(path: Path) -> list[str]:
    """The clip's flags (empty when nothing is odd); an unreadable file gets none here (the
    decoder records its own failure)."""
    try:
        info = sf.info(str(path))
        samples, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError):
        return []
    return clip_flags(samples, info.samplerate, info.channels, info.subtype)


def clip_flags(samples: np.ndarray, rate: int, channels: int = 1, subtype: str | None = None) -> list[str]:
    flags = []
    x = np.asarray(samples, dtype=np.float32)
    if x.size:
        clipped = float(np.mean(np.abs(x) >= CLIPPED_LEVEL))
        if clipped > CLIPPED_SHARE:
            flags.append(f"clipped {100 * clipped:.0f}%")
    if subtype in LOW_BIT_FORMATS:
        flags.append(f"8-bit ({subtype})")
    if channels > 1:
        flags.append(f"{channels} channels")
    if not USUAL_RATES[0] <= rate <= USUAL_RATES[1]:
        flags.append(f"{rate} Hz")
    seconds = (x.shape[0] / rate) if rate else 0.0
    if seconds < SHORT_S:
        flags.append(f"short ({seconds:.2f} s)")
    elif seconds > LONG_S:
        flags.append(f"long ({seconds:.0f} s)")
    return flags
