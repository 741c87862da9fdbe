"""How a reference script brings audio to its model's rate, as one choice per scorer.

The pipeline hands audio over at ``PASS_THROUGH_RATES`` as it is (a clip at another rate is first
brought to the nearest of them by soxr), so that the scorer resamples with the reference's own
method: ``scipy_fft`` (``scipy.signal.resample``, Seed-TTS-Eval's Whisper path), ``torchaudio_sinc``
(``torchaudio``'s Resample, our port: UniSpeech, FunASR, 3D-Speaker) or ``soxr`` (ours, and
librosa's default)."""

from __future__ import annotations

import numpy as np

PASS_THROUGH_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
METHODS = ("scipy_fft", "torchaudio_sinc", "soxr")


def check(scorer: str, method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ValueError(f"{scorer}: resampler must be one of {allowed}, not {method!r}")


def native_rates(method: str) -> tuple[int, ...]:
    """What the scorer declares (``ScorerInfo.native_rates``): pass-through unless soxr, which the
    pipeline itself applies."""
    return () if method == "soxr" else PASS_THROUGH_RATES


def resample(samples: np.ndarray, rate: int, target: int, method: str) -> np.ndarray:
    if rate == target:
        return samples
    if method == "scipy_fft":
        import scipy.signal

        return scipy.signal.resample(np.asarray(samples, dtype=np.float64), int(len(samples) * target / rate))
    if method == "torchaudio_sinc":
        from ztts1_eval.core.sinc_resample import resample as sinc

        return sinc(samples, rate, target)
    import soxr

    return soxr.resample(np.asarray(samples, dtype=np.float32), rate, target, quality="HQ")
