"""The six quality features ZONOS2 conditions on, measured on audio, to check whether asking for
one delivers it (issue 21's quality-mode sweep).

ZONOS2's training pipeline that labelled these features is not published, so these are our
definitions, stated here and recorded with the results:
- ``lufs``: integrated loudness, ITU-R BS.1770-4 (pyloudnorm), NaN under 0.4 s.
- ``estimated_snr``: dB of the mean power inside Silero speech segments over the mean power
  outside them (capped at 100 dB; NaN when the clip is all speech or all silence).
- ``max_pause``: the longest gap between two speech segments, seconds (0 with one segment).
- ``estimated_bandlimit_hz``: the frequency below which 99.9 % of the speech segments' power lies
  (Welch spectrum, 2048-sample segments).
- ``leading_silence_s`` / ``trailing_silence_s``: before the first / after the last segment.
"""

from __future__ import annotations

import math

import numpy as np

FEATURES = ("lufs", "estimated_snr", "max_pause", "estimated_bandlimit_hz", "leading_silence_s", "trailing_silence_s")
VERSION = "1"
MAX_SNR_DB = 100.0
BANDLIMIT_ENERGY = 0.999


def measure(samples: np.ndarray, rate: int) -> dict[str, float]:
    """Every feature of one mono clip."""
    import pyloudnorm
    import scipy.signal

    from ztts1_eval.core import audio
    from ztts1_eval.prosody import vad

    samples = np.asarray(samples, dtype=np.float64)
    duration = len(samples) / rate
    at_16k = audio.resample(audio.Audio(samples.astype(np.float32), rate), vad.SAMPLE_RATE).samples
    segments = [(start / vad.SAMPLE_RATE, end / vad.SAMPLE_RATE) for start, end in vad.speech_segments(at_16k)]
    out = {name: math.nan for name in FEATURES}
    if duration >= 0.4:
        out["lufs"] = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    if not segments:
        return out
    out["leading_silence_s"] = segments[0][0]
    out["trailing_silence_s"] = max(0.0, duration - segments[-1][1])
    out["max_pause"] = max((b[0] - a[1] for a, b in zip(segments, segments[1:])), default=0.0)
    inside = np.zeros(len(samples), dtype=bool)
    for start, end in segments:
        inside[int(start * rate):int(end * rate)] = True
    if inside.any() and (~inside).any():
        speech, rest = float(np.mean(samples[inside] ** 2)), float(np.mean(samples[~inside] ** 2))
        out["estimated_snr"] = MAX_SNR_DB if rest <= 0 else min(MAX_SNR_DB, 10 * math.log10(max(speech, 1e-20) / rest))
    speech_audio = samples[inside]
    if len(speech_audio) >= 2048:
        freqs, power = scipy.signal.welch(speech_audio, fs=rate, nperseg=2048)
        cumulative = np.cumsum(power) / max(float(power.sum()), 1e-30)
        out["estimated_bandlimit_hz"] = float(freqs[int(np.searchsorted(cumulative, BANDLIMIT_ENERGY))])
    return out
