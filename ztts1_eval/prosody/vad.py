"""Leading/trailing non-speech trimming with Silero VAD, as DS-WED does before extracting units.

The ``silero-vad`` wheel ships its models (TorchScript and ONNX) and needs neither torchaudio nor
a download; ``get_speech_timestamps`` runs with its defaults (threshold 0.5, 250 ms minimum speech,
100 ms minimum silence, 30 ms padding) at 16 kHz, and the clip is cut from the first speech start
to the last speech end. A clip where no speech is found is returned unchanged (DS-WED's choice),
and the caller is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Trimmed:
    samples: np.ndarray
    start: int  # sample index of the kept region in the input
    end: int
    speech_found: bool


@lru_cache(maxsize=1)
def silero_model():
    from silero_vad import load_silero_vad

    return load_silero_vad(onnx=False)


def identity() -> dict:
    return {"vad": "silero-vad (bundled TorchScript model), get_speech_timestamps defaults",
            "package": f"silero-vad=={version('silero-vad')}"}


def speech_segments(samples: np.ndarray, threshold: float = 0.5, min_speech_ms: int = 250) -> list[tuple[int, int]]:
    """(start, end) sample indices of the speech Silero finds in 16 kHz audio (its defaults:
    threshold 0.5, 250 ms minimum speech)."""
    import torch
    from silero_vad import get_speech_timestamps

    wav = np.ascontiguousarray(samples, dtype=np.float32)
    with torch.inference_mode():
        segments = get_speech_timestamps(torch.from_numpy(wav), silero_model(), sampling_rate=SAMPLE_RATE,
                                         threshold=threshold, min_speech_duration_ms=min_speech_ms)
    return [(int(s["start"]), int(s["end"])) for s in segments]


def trim(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Trimmed:
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"Silero VAD trimming runs at {SAMPLE_RATE} Hz, got {sample_rate}")
    wav = np.ascontiguousarray(samples, dtype=np.float32)
    segments = speech_segments(wav)
    if not segments:
        return Trimmed(wav, 0, wav.size, speech_found=False)
    start, end = segments[0][0], segments[-1][1]
    return Trimmed(wav[start:end], start, end, speech_found=True)
