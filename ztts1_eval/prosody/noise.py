"""The four TTSDS noise sets, generated instead of downloaded.

TTSDS describes its noise references only as "all ones, all zeros, random normal and random
uniform" audio (distributed as tarballs on the hub; the generating parameters are not published).
We build them deterministically from that description: ``N_UTTERANCES`` clips per set with
lengths drawn uniformly in [2, 6] s at 22.05 kHz, values 1.0, 0.0, N(0, 1) clipped to [-1, 1]
(what a float WAV can hold) and U(-1, 1); one seed per set. The version is part of every
distribution scorer's identity, so changing the construction re-scores.
"""

from __future__ import annotations

import numpy as np

NOISE_VERSION = "1"
SAMPLE_RATE = 22050
N_UTTERANCES = 32
NOISE_SETS = ("all_ones", "all_zeros", "normal", "uniform")
_SEEDS = {"all_ones": 1, "all_zeros": 2, "normal": 3, "uniform": 4}


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
    return {"version": NOISE_VERSION, "sets": list(NOISE_SETS), "n_utterances": N_UTTERANCES,
            "seconds": [2.0, 6.0], "sample_rate": SAMPLE_RATE,
            "values": {"all_ones": 1.0, "all_zeros": 0.0, "normal": "N(0,1) clipped to [-1,1]", "uniform": "U(-1,1)"}}
