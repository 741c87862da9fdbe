"""The four TTSDS noise sets: generated here (the offline default), or the official ones.

Official: the ``ttsds/noise-reference`` dataset (four ``noise_*.tar.gz``), read as ttsds 2.1.3's
``TarDataset`` reads them: every ``*.wav`` member in archive order, ``librosa.load`` at 22.05 kHz
mono, an empty clip replaced by 16000 zeros, otherwise ``librosa.effects.trim`` (top_db 60); no
peak normalization (ttsds normalizes only the evaluated and reference sets).

Generated: TTSDS describes its noise references only as "all ones, all zeros, random normal and random
uniform" audio (distributed as tarballs on the hub; the generating parameters are not published).
We build them deterministically from that description: ``N_UTTERANCES`` clips per set with
lengths drawn uniformly in [2, 6] s at 22.05 kHz, values 1.0, 0.0, N(0, 1) clipped to [-1, 1]
(what a float WAV can hold) and U(-1, 1); one seed per set. The version is part of every
distribution scorer's identity, so changing the construction re-scores.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

NOISE_VERSION = "1"
SAMPLE_RATE = 22050
N_UTTERANCES = 32
NOISE_SETS = ("all_ones", "all_zeros", "normal", "uniform")
_SEEDS = {"all_ones": 1, "all_zeros": 2, "normal": 3, "uniform": 4}
OFFICIAL_REPO = "ttsds/noise-reference"
# our set name -> the official archive (ttsds.py's NOISE_DATASETS)
OFFICIAL_FILES = {"all_ones": "noise_all_ones.tar.gz", "all_zeros": "noise_all_zeros.tar.gz",
                  "normal": "noise_normal_distribution.tar.gz", "uniform": "noise_uniform_distribution.tar.gz"}
OFFICIAL_READER_VERSION = "1"


def noise_set(name: str, sample_rate: int = SAMPLE_RATE, n: int = N_UTTERANCES) -> list[np.ndarray]:
    if name not in _SEEDS:
        raise ValueError(f"unknown noise set {name!r} (known: {', '.join(NOISE_SETS)})")
    rng = np.random.default_rng(_SEEDS[name])
    lengths = (rng.uniform(2.0, 6.0, size=n) * sample_rate).astype(int)
    clips = []
    for length in lengths:
        if name == "all_ones":
            clip = np.ones(length)
        elif name == "all_zeros":
            clip = np.zeros(length)
        elif name == "normal":
            clip = np.clip(rng.standard_normal(length), -1.0, 1.0)
        else:
            clip = rng.uniform(-1.0, 1.0, size=length)
        clips.append(clip.astype(np.float32))
    return clips


def describe() -> dict:
    return {"source": "generated here (offline default, not ttsds/noise-reference)", "version": NOISE_VERSION,
            "sets": list(NOISE_SETS), "n_utterances": N_UTTERANCES,
            "seconds": [2.0, 6.0], "sample_rate": SAMPLE_RATE,
            "values": {"all_ones": 1.0, "all_zeros": 0.0, "normal": "N(0,1) clipped to [-1,1]", "uniform": "U(-1,1)"}}


def official_sets(directory: Path, sample_rate: int = SAMPLE_RATE) -> dict[str, list[np.ndarray]]:
    """The four official sets from a directory holding the four archives (a hub snapshot)."""
    import librosa

    sets = {}
    for name, file_name in OFFICIAL_FILES.items():
        path = Path(directory) / file_name
        clips = []
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if not member.name.endswith(".wav"):
                    continue
                data = archive.extractfile(member).read()
                clip, _ = librosa.load(io.BytesIO(data), sr=sample_rate)
                clip = np.zeros(16000, dtype=np.float32) if clip.shape[0] == 0 else librosa.effects.trim(clip)[0]
                clips.append(np.asarray(clip, dtype=np.float32))
        if not clips:
            raise ValueError(f"{path} holds no .wav member")
        sets[name] = clips
    return sets


def describe_official(directory: Path, revision: str | None, sets: dict[str, list[np.ndarray]] | None) -> dict:
    """What the official sets were: archive checksums, clip counts, and how they were read."""
    return {"source": OFFICIAL_REPO, "revision": revision, "snapshot": Path(directory).name,
            "reader_version": OFFICIAL_READER_VERSION,
            "sha256": {name: hashlib.sha256((Path(directory) / f).read_bytes()).hexdigest()
                       for name, f in OFFICIAL_FILES.items()},
            "clips": {name: len(clips) for name, clips in sets.items()} if sets else None,
            "reading": "ttsds 2.1.3 TarDataset: librosa.load 22050 Hz mono, trim top_db 60, no peak normalization"}
