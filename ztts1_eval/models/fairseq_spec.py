"""fairseq's convolutional feature-extractor spec string (WavLM, data2vec / emotion2vec configs)."""

from __future__ import annotations

import re


def conv_layers(spec: str) -> list[tuple[int, int, int]]:
    """fairseq's ``conv_feature_layers`` string, ``"[(512,10,5)] + [(512,3,2)] * 4"``, as a list."""
    layers: list[tuple[int, int, int]] = []
    for term in spec.split("+"):
        match = re.fullmatch(r"\s*\[\s*\((\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*\]\s*(?:\*\s*(\d+))?\s*", term)
        if not match:
            raise ValueError(f"cannot read conv_feature_layers term {term!r} in {spec!r}")
        layer = tuple(int(match.group(i)) for i in (1, 2, 3))
        layers.extend([layer] * int(match.group(4) or 1))
    return layers
