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


def trim(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Trimmed:
    import torch
    from silero_vad import get_speech_timestamps

    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"Silero VAD trimming runs at {SAMPLE_RATE} Hz, got {sample_rate}")
    wav = np.ascontiguousarray(samples, dtype=np.float32)
    model = silero_model()
    with torch.inference_mode():
        segments = get_speech_timestamps(torch.from_numpy(wav), model, sampling_rate=SAMPLE_RATE)
    if not segments:
        return Trimmed(wav, 0, wav.size, speech_found=False)
    start, end = int(segments[0]["start"]), int(segments[-1]["end"])
    return Trimmed(wav[start:end], start, end, speech_found=True)
