"""DS-WED (Yang et al., ICASSP 2026): diversity of a system's generations for one item as the
weighted edit distance between their discrete-unit sequences.

For two generations a, b of the same text and prompt: trim non-speech (Silero VAD), HuBERT-base
layer-8 frames, k-means units, then the Levenshtein distance with insertion, deletion and
substitution weights (1, 1, 1) between the unit sequences, unnormalized and without collapsing
repeated units (as the reference implementation). An item's value is the mean over all pairs
of its K >= 2 generations; higher = more diverse.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

DSWED_VERSION = "1"
WEIGHTS = (1, 1, 1)  # insertion, deletion, substitution


def weighted_edit_distance(a: Sequence[int], b: Sequence[int], weights: tuple[int, int, int] = WEIGHTS) -> int:
    return int(Levenshtein.distance(list(map(int, a)), list(map(int, b)), weights=weights))


def mean_pairwise_distance(sequences: Sequence[Sequence[int]], weights: tuple[int, int, int] = WEIGHTS) -> float:
    if len(sequences) < 2:
        raise ValueError(f"DS-WED needs at least 2 generations of an item, got {len(sequences)}")
    return float(np.mean([weighted_edit_distance(a, b, weights) for a, b in combinations(sequences, 2)]))
