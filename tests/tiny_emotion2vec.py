"""A tiny emotion2vec model directory in FunASR's layout (config.yaml with ``model: Emotion2vec``
and ``model_conf``, model.pt, tokens.txt with emotion2vec_plus_large's 9 labels), random weights
from tests/seeded_weights.py for the key list that ``scripts/emotion2vec_reference.py`` recorded
from FunASR's Emotion2vec. Numpy and PyYAML only (torch for ``model.pt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from seeded_weights import values

# The structure of emotion2vec_plus_large's model_conf, tiny sizes (an even positional kernel,
# several ALiBi heads and extra tokens, so that every branch runs).
MODEL_CONF = {
    "loss_beta": 0.0, "loss_scale": None, "depth": 2, "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0,
    "num_heads": 2, "norm_eps": 1e-05, "norm_affine": True, "encoder_dropout": 0.1, "post_mlp_drop": 0.1,
    "attention_dropout": 0.1, "activation_dropout": 0.0, "dropout_input": 0.0, "layerdrop": 0.05, "embed_dim": 16,
    "mlp_ratio": 2.0, "layer_norm_first": False, "average_top_k_layers": 2, "end_of_block_targets": False,
    "clone_batch": 8, "layer_norm_target_layer": False, "batch_norm_target_layer": False,
    "instance_norm_target_layer": True, "instance_norm_targets": False, "layer_norm_targets": False,
    "ema_decay": 0.999, "ema_same_dtype": True, "log_norms": True, "ema_end_decay": 0.99999,
    "ema_anneal_end_step": 20000, "ema_encoder_only": False, "max_update": 100000, "extractor_mode": "layer_norm",
    "shared_decoder": None, "min_target_var": 0.1, "min_pred_var": 0.01, "supported_modality": "AUDIO",
    "mae_init": False, "seed": 1, "skip_ema": False, "cls_loss": 1.0, "recon_loss": 0.0, "d2v_loss": 1.0,
    "decoder_group": False, "adversarial_training": False, "adversarial_hidden_dim": 128,
    "adversarial_weight": 0.1, "cls_type": "chunk", "normalize": True,
    "modalities": {"audio": {
        "type": "AUDIO", "prenet_depth": 1, "prenet_layerdrop": 0.05, "prenet_dropout": 0.1,
        "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0, "num_extra_tokens": 3, "init_extra_token_zero": True,
        "mask_noise_std": 0.01, "mask_prob_min": None, "mask_prob": 0.5, "inverse_mask": False,
        "mask_prob_adjust": 0.05, "keep_masked_pct": 0.0, "mask_length": 5, "add_masks": False,
        "remove_masks": False, "mask_dropout": 0.0, "encoder_zero_mask": True, "mask_channel_prob": 0.0,
        "mask_channel_length": 64, "ema_local_encoder": False, "local_grad_mult": 1.0, "use_alibi_encoder": True,
        "alibi_scale": 1.0, "learned_alibi": False, "alibi_max_pos": None, "learned_alibi_scale": True,
        "learned_alibi_scale_per_head": True, "learned_alibi_scale_per_layer": False, "num_alibi_heads": 2,
        "model_depth": 2,
        "decoder": {"decoder_dim": 8, "decoder_groups": 2, "decoder_kernel": 3, "decoder_layers": 1,
                    "input_dropout": 0.1, "add_positions_masked": False, "add_positions_all": False,
                    "decoder_residual": True, "projection_layers": 1, "projection_ratio": 2.0},
        "extractor_mode": "layer_norm",
        "feature_encoder_spec": "[(8, 10, 5)] + [(8, 3, 2)] * 4 + [(8,2,2)] + [(8,2,2)]",
        "conv_pos_width": 8, "conv_pos_groups": 2, "conv_pos_depth": 2, "conv_pos_pre_ln": False}},
}
LABELS = ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral", "其他/other", "难过/sad",
          "吃惊/surprised", "<unk>"]


def write_model_dir(path: Path, spec: Sequence[tuple[str, Sequence[int], str]], seed: int) -> Path:
    import torch
    import yaml

    path.mkdir(parents=True, exist_ok=True)
    config = {"model": "Emotion2vec", "model_conf": MODEL_CONF, "tokenizer": "CharTokenizer",
              "tokenizer_conf": {"token_list": "tokens.txt", "unk_symbol": "<unk>"}}
    (path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    (path / "tokens.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    torch.save({key: torch.from_numpy(array) for key, array in values(spec, seed).items()}, path / "model.pt")
    return path
