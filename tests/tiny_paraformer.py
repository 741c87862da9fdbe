"""A tiny ``paraformer-zh`` model directory in FunASR's real layout (configuration.json,
config.yaml, model.pt, am.mvn, tokens.json), random weights from tests/seeded_weights.py for the
key list that ``scripts/paraformer_reference.py`` recorded from the official SeacoParaformer.

Numpy and PyYAML only (torch for ``model.pt``), so the reference script can import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from seeded_weights import values

# The structure of paraformer-zh's config.yaml (SeACo-Paraformer, CifPredictorV3), tiny sizes.
CONFIG = {
    "model": "SeacoParaformer",
    "model_conf": {"ctc_weight": 0.0, "lsm_weight": 0.1, "length_normalized_loss": True, "predictor_weight": 1.0,
                   "predictor_bias": 1, "sampling_ratio": 0.75, "inner_dim": 16, "bias_encoder_type": "lstm",
                   "bias_encoder_bid": False, "seaco_lsm_weight": 0.1, "seaco_length_normal": True,
                   "train_decoder": False, "NO_BIAS": 36},
    "encoder": "SANMEncoder",
    "encoder_conf": {"output_size": 16, "attention_heads": 2, "linear_units": 32, "num_blocks": 3,
                     "dropout_rate": 0.1, "positional_dropout_rate": 0.1, "attention_dropout_rate": 0.1,
                     "input_layer": "pe", "pos_enc_class": "SinusoidalPositionEncoder", "normalize_before": True,
                     "kernel_size": 5, "sanm_shfit": 0, "selfattention_layer_type": "sanm"},
    "decoder": "ParaformerSANMDecoder",
    "decoder_conf": {"attention_heads": 2, "linear_units": 32, "num_blocks": 2, "dropout_rate": 0.1,
                     "positional_dropout_rate": 0.1, "self_attention_dropout_rate": 0.1,
                     "src_attention_dropout_rate": 0.1, "att_layer_num": 2, "kernel_size": 5, "sanm_shfit": 0},
    "seaco_decoder": "ParaformerSANMDecoder",
    "seaco_decoder_conf": {"attention_heads": 2, "linear_units": 16, "num_blocks": 1, "dropout_rate": 0.1,
                           "positional_dropout_rate": 0.1, "self_attention_dropout_rate": 0.1,
                           "src_attention_dropout_rate": 0.1, "kernel_size": 5, "sanm_shfit": 0,
                           "use_output_layer": False, "wo_input_layer": True},
    "predictor": "CifPredictorV3",
    "predictor_conf": {"idim": 16, "threshold": 1.0, "l_order": 1, "r_order": 1, "tail_threshold": 0.45,
                       "smooth_factor2": 0.25, "noise_threshold2": 0.01, "upsample_times": 3,
                       "use_cif1_cnn": False, "upsample_type": "cnn_blstm"},
    "frontend": "WavFrontend",
    "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": 80, "frame_length": 25, "frame_shift": 10,
                      "lfr_m": 7, "lfr_n": 6, "dither": 0.0},
    "specaug": None,
    "tokenizer": "CharTokenizer",
    "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
    "normalize": None,
}
# Chinese characters, digits, English words and subwords (so every sentence_postprocess branch
# can be reached), the special symbols where paraformer-zh has them (<blank> 0, <s> 1, </s> 2,
# <unk> last, which is also its sos/eos).
TOKENS = (["<blank>", "<s>", "</s>"] + list("我们你好的是在有不了人这中大为上个国") + ["1", "2", "3"]
          + ["a", "b", "c", "hel@@", "lo", "wor@@", "ld", "it's", "ok", "tts", "@@", "的@@", "x"] + ["<unk>"])
CONFIGURATION = {"framework": "pytorch", "task": "auto-speech-recognition", "model": {"type": "funasr"},
                 "file_path_metas": {"init_param": "model.pt", "config": "config.yaml",
                                     "tokenizer_conf": {"token_list": "tokens.json"},
                                     "frontend_conf": {"cmvn_file": "am.mvn"}}}


def cmvn_text(dim: int, seed: int) -> str:
    """An ``am.mvn`` in the Kaldi nnet text layout of paraformer-zh's, with seeded values."""
    rng = np.random.default_rng(seed)
    shift = " ".join(f"{v:.6f}" for v in -(8.0 + 4.0 * rng.random(dim)))
    scale = " ".join(f"{v:.6f}" for v in 0.2 + 0.2 * rng.random(dim))
    return (f"<Nnet>\n<Splice> {dim} {dim}\n[ 0 ]\n<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {shift} ]\n"
            f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {scale} ]\n</Nnet>\n")


def write_model_dir(path: Path, spec: Sequence[tuple[str, Sequence[int], str]], seed: int) -> Path:
    import torch
    import yaml

    path.mkdir(parents=True, exist_ok=True)
    (path / "config.yaml").write_text(yaml.safe_dump(CONFIG, allow_unicode=True, sort_keys=False))
    (path / "configuration.json").write_text(json.dumps(CONFIGURATION, indent=1))
    (path / "tokens.json").write_text(json.dumps(TOKENS, ensure_ascii=False))
    dim = CONFIG["frontend_conf"]["n_mels"] * CONFIG["frontend_conf"]["lfr_m"]
    (path / "am.mvn").write_text(cmvn_text(dim, seed + 1))
    torch.save({key: torch.from_numpy(array) for key, array in values(spec, seed).items()}, path / "model.pt")
    return path
