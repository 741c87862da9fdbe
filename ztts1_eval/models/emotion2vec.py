"""emotion2vec (data2vec 2.0 audio encoder + utterance classifier), the emotion recognizer CV3-Eval's
``scripts/eval_emotation.py`` runs (``emotion2vec_plus_large`` through the modelscope/FunASR
pipeline, ``granularity="utterance"``).

Written here because FunASR imports torchaudio at import time; the classes follow FunASR's
``funasr/models/emotion2vec`` inference path with its parameter names (strict keys), and
``scripts/emotion2vec_reference.py`` checks the class scores against FunASR on random weights.
The path run: waveform layer-normalized, conv feature extractor, LayerNorm + projection, a
convolutional relative position encoder added, ALiBi biases (scaled by the learned per-head
scale), extra tokens prepended, the prenet blocks, the main blocks, extra tokens removed, mean
over time, the classifier, softmax (labels starting with "unuse" masked out).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ztts1_eval.models.fairseq_spec import conv_layers


def alibi_slopes(heads: int) -> list[float]:
    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(heads).is_integer():
        return power_of_2(heads)
    closest = 2 ** math.floor(math.log2(heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: heads - closest]


def alibi_bias(frames: int, heads: int) -> torch.Tensor:
    """``[1, heads, frames, frames]``: -slope x |i - j|."""
    distance = -torch.abs(torch.arange(frames)[None, :] - torch.arange(frames)[:, None])
    return (torch.tensor(alibi_slopes(heads))[:, None, None] * distance[None].expand(heads, -1, -1))[None]


class ConvLayer(nn.Module):
    """fairseq's conv block in ``layer_norm`` mode: conv, (dropout), LayerNorm over channels, GELU;
    keys ``<i>.0.weight`` and ``<i>.2.1.{weight,bias}`` as its nn.Sequential numbering."""

    def __init__(self, n_in: int, n_out: int, kernel: int, stride: int):
        super().__init__()
        self.add_module("0", nn.Conv1d(n_in, n_out, kernel, stride=stride, bias=False))
        self.add_module("2", nn.Sequential(nn.Identity(), nn.LayerNorm(n_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = getattr(self, "0")(x)
        x = getattr(self, "2")[1](x.transpose(-2, -1)).transpose(-2, -1)
        return F.gelu(x)


class LocalEncoder(nn.Module):
    def __init__(self, layers: list[tuple[int, int, int]]):
        super().__init__()
        blocks, n_in = [], 1
        for n_out, kernel, stride in layers:
            blocks.append(ConvLayer(n_in, n_out, kernel, stride))
            n_in = n_out
        self.conv_layers = nn.ModuleList(blocks)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        x = wav.unsqueeze(1)
        for layer in self.conv_layers:
            x = layer(x)
        return x


class PositionalConv(nn.Module):
    """One relative-position block: grouped conv (same length), LayerNorm without affine, GELU."""

    def __init__(self, dim: int, kernel: int, groups: int):
        super().__init__()
        self.add_module("0", nn.Conv1d(dim, dim, kernel_size=kernel, padding=kernel // 2, groups=groups))
        self.trim = 1 if kernel % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, D, T]
        x = getattr(self, "0")(x)
        if self.trim:
            x = x[:, :, :-self.trim]
        x = F.layer_norm(x.transpose(1, 2), (x.shape[1],)).transpose(1, 2)
        return F.gelu(x)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if bias is not None:
            attn = attn.type_as(bias)
            attn[:, : bias.size(1)] += bias
        attn = attn.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """data2vec 2.0's AltBlock, post-norm (``layer_norm_first: false``)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        x = self.norm1(x + self.attn(x, bias))
        return self.norm2(x + self.mlp(x))


class ContextEncoder(nn.Module):
    def __init__(self, blocks: list[Block], dim: int, eps: float):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        x = self.norm(x)
        for block in self.blocks:
            x = block(x, bias)
        return x


class AudioEncoder(nn.Module):
    def __init__(self, audio: Mapping[str, Any], dim: int, heads: int, mlp_ratio: float, eps: float):
        super().__init__()
        layers = conv_layers(audio["feature_encoder_spec"])
        self.local_encoder = LocalEncoder(layers)
        self.project_features = nn.Sequential(nn.Identity(), nn.LayerNorm(layers[-1][0]), nn.Linear(layers[-1][0], dim))
        depth = audio["conv_pos_depth"]
        kernel = max(3, audio["conv_pos_width"] // depth)
        self.relative_positional_encoder = nn.Sequential(
            nn.Identity(), *[PositionalConv(dim, kernel, audio["conv_pos_groups"]) for _ in range(depth)])
        self.context_encoder = ContextEncoder([Block(dim, heads, mlp_ratio, eps) for _ in range(audio["prenet_depth"])],
                                              dim, eps)
        self.num_extra_tokens = audio.get("num_extra_tokens", 0)
        if self.num_extra_tokens:
            self.extra_tokens = nn.Parameter(torch.zeros(1, self.num_extra_tokens, dim))
        self.num_alibi_heads = audio.get("num_alibi_heads", heads)
        self.alibi_scale = nn.Parameter(torch.ones(1, 1, self.num_alibi_heads, 1, 1))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.project_features[2](self.project_features[1](self.local_encoder(wav).transpose(1, 2)))
        pos = x.transpose(1, 2)
        for block in list(self.relative_positional_encoder)[1:]:
            pos = block(pos)
        x = x + pos.transpose(1, 2)
        bias = alibi_bias(x.shape[1], self.num_alibi_heads).to(x) * self.alibi_scale.clamp_min(0).squeeze(0)
        if self.num_extra_tokens:
            x = torch.cat([self.extra_tokens.expand(x.size(0), -1, -1), x], dim=1)
            bias = F.pad(bias, (self.num_extra_tokens, 0, self.num_extra_tokens, 0))
        return self.context_encoder(x, bias), bias


class Emotion2vec(nn.Module):
    def __init__(self, model_conf: Mapping[str, Any], num_labels: int):
        super().__init__()
        conf, audio = dict(model_conf), dict(model_conf["modalities"]["audio"])
        if conf.get("layer_norm_first") or audio.get("learned_alibi") or audio.get("learned_alibi_scale_per_layer"):
            raise ValueError("only post-norm emotion2vec with one learned ALiBi scale per head is supported "
                             "(the released emotion2vec models)")
        if audio.get("extractor_mode", "layer_norm") != "layer_norm" or audio.get("conv_pos_pre_ln"):
            raise ValueError("only the layer_norm feature extractor without pre-LN positions is supported")
        dim, heads, eps = conf["embed_dim"], conf["num_heads"], float(conf.get("norm_eps", 1e-5))
        self.normalize = bool(conf.get("normalize", True))
        self.num_extra_tokens = audio.get("num_extra_tokens", 0)
        self.modality_encoders = nn.ModuleDict({"AUDIO": AudioEncoder(audio, dim, heads, conf["mlp_ratio"], eps)})
        self.blocks = nn.ModuleList(Block(dim, heads, conf["mlp_ratio"], eps) for _ in range(conf["depth"]))
        self.proj = nn.Linear(dim, num_labels)

    def features(self, wav: torch.Tensor) -> torch.Tensor:
        """Frame features ``[1, T, D]`` of a 16 kHz waveform ``[1, N]`` (extra tokens removed)."""
        if self.normalize:
            wav = F.layer_norm(wav, wav.shape[-1:])
        x, bias = self.modality_encoders["AUDIO"](wav)
        for block in self.blocks:
            x = block(x, bias)
        return x[:, self.num_extra_tokens:]

    def forward(self, wav: torch.Tensor, unused: list[bool] | None = None) -> torch.Tensor:
        """Class probabilities ``[1, labels]``, labels marked unused set to zero (FunASR: -inf)."""
        logits = self.proj(self.features(wav).mean(dim=1))
        if unused:
            logits = logits.masked_fill(torch.tensor(unused, device=logits.device)[None], float("-inf"))
        return torch.softmax(logits, dim=-1)
