"""Seed-TTS-Eval's speaker-similarity model: WavLM + UniSpeech's ECAPA-TDNN head
(``ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large')`` with ``wavlm_large_finetune.pth``).

The official model takes WavLM through s3prl (``torch.hub.load('s3prl/s3prl', 'wavlm_large')``):
waveform layer-normalized, the input of every transformer layer plus the encoder's (final
layer-normed) output as ``hidden_states``, a softmax-weighted sum of them (``feature_weight``),
+1e-6, instance norm, then the ECAPA head. Here WavLM is transformers' ``WavLMModel`` (its
``hidden_states`` are those same tensors); the checkpoint's fairseq-named keys are mapped onto it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ztts1_eval.models.ecapa_tdnn import EcapaTdnnHead
from ztts1_eval.models.fairseq_spec import conv_layers

# s3prl's wavlm_large.pt ``cfg`` (the WavLM-Large release), as far as the forward pass needs it;
# the checkpoint's tensor shapes are checked against it at load time.
WAVLM_LARGE: dict[str, Any] = {
    "extractor_mode": "layer_norm", "conv_feature_layers": "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2",
    "conv_bias": False, "normalize": True, "layer_norm_first": True, "encoder_layers": 24,
    "encoder_embed_dim": 1024, "encoder_ffn_embed_dim": 4096, "encoder_attention_heads": 16,
    "activation_fn": "gelu", "conv_pos": 128, "conv_pos_groups": 16, "relative_position_embedding": True,
    "num_buckets": 320, "max_distance": 800, "gru_rel_pos": True,
}
WAVLM_PRESETS = {"wavlm_large": WAVLM_LARGE}
WAVLM_PREFIX = "feature_extract.model."
HEAD_PREFIXES = ("layer1.", "layer2.", "layer3.", "layer4.", "conv.", "pooling.", "bn.", "linear.")

_LAYER_KEYS = [
    (r"self_attn\.(k_proj|v_proj|q_proj|out_proj)\.", r"attention.\1."),
    (r"self_attn\.grep_linear\.", "attention.gru_rel_pos_linear."),
    (r"self_attn\.grep_a$", "attention.gru_rel_pos_const"),
    (r"self_attn\.relative_attention_bias\.", "attention.rel_attn_embed."),
    (r"self_attn_layer_norm\.", "layer_norm."),
    (r"fc1\.", "feed_forward.intermediate_dense."),
    (r"fc2\.", "feed_forward.output_dense."),
    (r"final_layer_norm\.", "final_layer_norm."),
]
_MODEL_KEYS = [
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),  # layer_norm mode
    (r"^feature_extractor\.conv_layers\.0\.2\.", "feature_extractor.conv_layers.0.layer_norm."),  # group norm mode
    (r"^layer_norm\.", "feature_projection.layer_norm."),
    (r"^post_extract_proj\.", "feature_projection.projection."),
    (r"^mask_emb$", "masked_spec_embed"),
    (r"^encoder\.pos_conv\.0\.weight_g$", "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"^encoder\.pos_conv\.0\.weight_v$", "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"^encoder\.pos_conv\.0\.bias$", "encoder.pos_conv_embed.conv.bias"),
    (r"^encoder\.layer_norm\.", "encoder.layer_norm."),
]


def read_wavlm_config(source: str | Mapping[str, Any]) -> dict[str, Any]:
    """A preset name (``wavlm_large``), a JSON file of s3prl/fairseq ``cfg`` keys, or a mapping."""
    if isinstance(source, Mapping):
        return {**WAVLM_LARGE, **dict(source)}
    if source in WAVLM_PRESETS:
        return dict(WAVLM_PRESETS[source])
    path = Path(source).expanduser()
    if not path.is_file():
        raise ValueError(f"wavlm_config {source!r} is neither a preset ({sorted(WAVLM_PRESETS)}) nor a JSON file")
    return {**WAVLM_LARGE, **json.loads(path.read_text())}


def hf_config(cfg: Mapping[str, Any]):
    """transformers' ``WavLMConfig`` for an s3prl/fairseq WavLM ``cfg``."""
    from transformers import WavLMConfig

    if not (cfg["relative_position_embedding"] and cfg["gru_rel_pos"]):
        raise ValueError("only WavLM with gated relative position bias (every released WavLM) is supported")
    if cfg["activation_fn"] != "gelu":
        raise ValueError(f"unsupported activation {cfg['activation_fn']!r}")
    layers = conv_layers(cfg["conv_feature_layers"])
    return WavLMConfig(
        hidden_size=cfg["encoder_embed_dim"], num_hidden_layers=cfg["encoder_layers"],
        num_attention_heads=cfg["encoder_attention_heads"], intermediate_size=cfg["encoder_ffn_embed_dim"],
        conv_dim=[c for c, _, _ in layers], conv_kernel=[k for _, k, _ in layers], conv_stride=[s for _, _, s in layers],
        conv_bias=bool(cfg["conv_bias"]), feat_extract_norm="layer" if cfg["extractor_mode"] == "layer_norm" else "group",
        do_stable_layer_norm=bool(cfg["layer_norm_first"]), num_conv_pos_embeddings=cfg["conv_pos"],
        num_conv_pos_embedding_groups=cfg["conv_pos_groups"], num_buckets=cfg["num_buckets"],
        max_bucket_distance=cfg["max_distance"], hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        feat_proj_dropout=0.0, layerdrop=0.0, mask_time_prob=0.0, apply_spec_augment=False,
    )


def wavlm_key(key: str) -> str | None:
    """The transformers name of a fairseq WavLM parameter, or None when it has none."""
    layer = re.match(r"^encoder\.layers\.(\d+)\.(.+)$", key)
    if layer:
        for pattern, replacement in _LAYER_KEYS:
            if re.match(pattern, layer.group(2)):
                return f"encoder.layers.{layer.group(1)}.{re.sub(pattern, replacement, layer.group(2))}"
        return None
    for pattern, replacement in _MODEL_KEYS:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


class UniSpeechSpeakerVerifier(nn.Module):
    """Waveform ``[1, T]`` at 16 kHz to the official embedding ``[1, emb_dim]``."""

    def __init__(self, wavlm_cfg: Mapping[str, Any], channels: int = 512, emb_dim: int = 256):
        super().__init__()
        from transformers import WavLMModel

        self.normalize = bool(wavlm_cfg["normalize"])
        self.wavlm = WavLMModel(hf_config(wavlm_cfg))
        self.feature_weight = nn.Parameter(torch.zeros(wavlm_cfg["encoder_layers"] + 1))
        self.instance_norm = nn.InstanceNorm1d(wavlm_cfg["encoder_embed_dim"])
        self.head = EcapaTdnnHead(wavlm_cfg["encoder_embed_dim"], channels, emb_dim)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            wav = F.layer_norm(wav, wav.shape[-1:])
        out = self.wavlm(wav, output_hidden_states=True)
        # s3prl's last entry is the encoder's output (after its final layer norm in the Large
        # layout); transformers 5 records the last layer's output there instead.
        hidden = torch.stack([*out.hidden_states[:-1], out.last_hidden_state], dim=0)
        weights = F.softmax(self.feature_weight, dim=-1)[:, None, None, None]
        frames = (weights * hidden).sum(dim=0).transpose(1, 2) + 1e-6
        return self.head(self.instance_norm(frames))


def split_checkpoint(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str], list[str]]:
    """Our state dict from the official one, our name -> official name, and the official keys
    with no place in our model (the official ``load_state_dict(strict=False)`` ignores them)."""
    mapped: dict[str, torch.Tensor] = {}
    official: dict[str, str] = {}
    ignored: list[str] = []
    for key, tensor in state.items():
        if key.startswith(WAVLM_PREFIX):
            target = wavlm_key(key[len(WAVLM_PREFIX):])
            name = f"wavlm.{target}" if target else None
        elif key == "feature_weight":
            name = key
        elif key.startswith(HEAD_PREFIXES):
            name = f"head.{key}"
        else:
            name = None
        if name is None:
            ignored.append(key)
        else:
            mapped[name], official[name] = tensor, key
    return mapped, official, ignored


def build(state: Mapping[str, torch.Tensor], wavlm_cfg: Mapping[str, Any]) -> tuple[UniSpeechSpeakerVerifier, list[str]]:
    """The model with every parameter taken from ``state`` (the checkpoint's ``model`` dict).

    The official loader is ``strict=False`` on top of s3prl's pretrained WavLM, so a checkpoint
    missing WavLM weights would silently run with the pretrained ones; here every parameter must
    come from the checkpoint, and a missing one is an error."""
    mapped, official, ignored = split_checkpoint(state)
    channels = int(mapped["head.layer1.conv.weight"].shape[0]) if "head.layer1.conv.weight" in mapped else 512
    emb_dim = int(mapped["head.linear.weight"].shape[0]) if "head.linear.weight" in mapped else 256
    model = UniSpeechSpeakerVerifier(wavlm_cfg, channels, emb_dim)
    expected = model.state_dict()
    projection = "wavlm.feature_projection.projection."
    if f"{projection}weight" not in mapped and expected[f"{projection}weight"].shape[0] == expected[f"{projection}weight"].shape[1]:
        # fairseq has no post_extract_proj when the conv and encoder widths agree: identity
        mapped[f"{projection}weight"] = torch.eye(expected[f"{projection}weight"].shape[0])
        mapped[f"{projection}bias"] = torch.zeros(expected[f"{projection}weight"].shape[0])
    wrong = [f"{k}: {tuple(v.shape)} vs {tuple(expected[k].shape)}" for k, v in mapped.items()
             if k in expected and v.shape != expected[k].shape]
    if wrong:
        raise ValueError(f"checkpoint shapes do not match the WavLM config: {wrong[:4]}")
    missing = sorted(k for k in expected if k not in mapped and not k.endswith("num_batches_tracked"))
    if missing:
        raise ValueError(f"checkpoint lacks {len(missing)} parameters, e.g. {missing[:4]}")
    model.load_state_dict({k: v for k, v in mapped.items() if k in expected}, strict=False)
    return model.eval(), sorted(ignored + [official[k] for k in mapped if k not in expected and k in official])
