"""Tiny Seed-TTS-Eval similarity checkpoints (UniSpeech ``wavlm_large_finetune.pth`` format:
``torch.save({"model": state_dict})`` with the official ECAPA_TDNN key names), random values.

Values from tests/seeded_weights.py, for the key list that ``scripts/unispeech_sv_reference.py``
recorded from the official model in ``tests/data/unispeech_sv_official/reference.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from seeded_weights import values

# Two WavLM front ends: the Large layout (layer norm in every conv block, pre-LN transformer) that
# wavlm_large_finetune.pth has, and the Base layout (group norm in the first block, post-LN).
CONFIGS = {
    "large_layout": {
        "extractor_mode": "layer_norm", "conv_feature_layers": "[(32,10,5)] + [(32,3,2)] * 4 + [(32,2,2)] * 2",
        "conv_bias": False, "normalize": True, "layer_norm_first": True, "encoder_layers": 2,
        "encoder_embed_dim": 32, "encoder_ffn_embed_dim": 64, "encoder_attention_heads": 4,
        "activation_fn": "gelu", "conv_pos": 16, "conv_pos_groups": 4, "relative_position_embedding": True,
        "num_buckets": 32, "max_distance": 80, "gru_rel_pos": True,
    },
    "base_layout": {
        "extractor_mode": "default", "conv_feature_layers": "[(24,10,5)] + [(24,3,2)] * 4 + [(24,2,2)] * 2",
        "conv_bias": False, "normalize": False, "layer_norm_first": False, "encoder_layers": 3,
        "encoder_embed_dim": 24, "encoder_ffn_embed_dim": 48, "encoder_attention_heads": 2,
        "activation_fn": "gelu", "conv_pos": 8, "conv_pos_groups": 2, "relative_position_embedding": True,
        "num_buckets": 16, "max_distance": 40, "gru_rel_pos": True,
    },
}
HEAD = {"channels": 16, "emb_dim": 12}


def write_checkpoint(path: Path, spec: Sequence[tuple[str, Sequence[int], str]], seed: int) -> Path:
    import torch

    state = {key: torch.from_numpy(array) for key, array in values(spec, seed).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state}, path)
    return path
