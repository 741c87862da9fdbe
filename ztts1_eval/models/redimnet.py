"""ReDimNet speaker encoder (Yakovlev et al., Interspeech 2024), written from the paper and the
released checkpoint layout.

Why by hand: the official package imports torchaudio at import time (see ``models/__init__``).
Module and parameter names follow the released state dicts (``backbone.stage{i}.{j}...``,
``pool.linear1``, ``bn``, ``linear``), so ``load_state_dict(strict=True)`` is the check that the
architecture matches. ``ReDimNetEncoder(**model_config)`` takes the checkpoint's ``model_config``
verbatim; options that only matter in training (dropouts, SpecAugment) are accepted and inert.

Shape walk: features (B, F, T) -> stem 2D conv (B, C, F, T) -> flattened to 1D (B, C*F, T). Every
stage takes a learned softmax mix of all earlier 1D outputs, reshapes it to 2D with its own
(channels, frequencies), strides frequencies down while widening channels (the volume C*F stays
constant), runs 2D blocks, flattens back and optionally adds a 1D time-context block (attention).
A final mix of all stage outputs is pooled over time (attentive statistics) into the embedding.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ztts1_eval.models.redimnet_features import build_front_end


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over dim 1 of (B, C, ...) tensors."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return self.weight.view(shape) * x + self.bias.view(shape)


class Flatten2dTo1d(nn.Module):
    """(B, C, F, T) -> (B, F*C, T), frequency-major as in the release."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, t = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, c * f, t)


class Unflatten1dTo2d(nn.Module):
    def __init__(self, f: int, c: int):
        super().__init__()
        self.f, self.c = f, c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        return x.reshape(b, self.f, self.c, t).permute(0, 2, 1, 3)


class WeightedSum(nn.Module):
    """Softmax-weighted sum over a list of (B, C*F, T) tensors, one weight per channel."""

    def __init__(self, n_inputs: int, channels: int):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1, n_inputs, channels, 1))

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        weights = F.softmax(self.w, dim=1)
        return (weights * torch.stack(list(inputs), dim=1)).sum(dim=1)


class ConvNeXtLikeBlock(nn.Module):
    """Depthwise-grouped convs (one per kernel size), BN, activation, pointwise conv, residual."""

    def __init__(self, channels: int, dim: int, kernel_sizes: Sequence, group_divisor: int | None,
                 activation: str = "gelu"):
        super().__init__()
        conv = nn.Conv2d if dim == 2 else nn.Conv1d
        norm = nn.BatchNorm2d if dim == 2 else nn.BatchNorm1d
        groups = channels // group_divisor if group_divisor is not None else 1
        self.dwconvs = nn.ModuleList(conv(channels, channels, kernel_size=k, padding="same", groups=groups)
                                     for k in kernel_sizes)
        self.norm = norm(channels * len(kernel_sizes))
        self.act = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.pwconv1 = conv(channels * len(kernel_sizes), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([conv(x) for conv in self.dwconvs], dim=1)
        return x + self.pwconv1(self.act(self.norm(y)))


class FrequencyWiseSE(nn.Module):
    """Squeeze-excitation over the frequency axis."""

    def __init__(self, n_freqs: int, n_hidden: int):
        super().__init__()
        self.squeeze = nn.Linear(n_freqs, n_hidden)
        self.exitation = nn.Linear(n_hidden, n_freqs)  # sic: the release's parameter name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.exitation(F.relu(self.squeeze(x.mean(dim=(1, 3))))))
        return x * gate[:, None, :, None]


class ResBasicBlock(nn.Module):
    """Grouped ResNet basic block; the release applies ReLU before the first BatchNorm."""

    def __init__(self, channels: int, n_freqs: int, se_channels: int, group_divisor: int | None, use_se: bool):
        super().__init__()
        grouped = group_divisor is not None
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False,
                               groups=channels // group_divisor if grouped else 1)
        self.conv1pw = nn.Conv2d(channels, channels, 1) if grouped else nn.Identity()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False,
                               groups=channels // group_divisor if grouped else 1)
        self.conv2pw = nn.Conv2d(channels, channels, 1) if grouped else nn.Identity()
        self.bn2 = nn.BatchNorm2d(channels)
        self.se = FrequencyWiseSE(n_freqs, se_channels) if use_se else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(F.relu(self.conv1pw(self.conv1(x))))
        out = self.se(self.bn2(self.conv2pw(self.conv2(out))))
        return F.relu(out + x)


class Block2d(nn.Module):
    def __init__(self, channels: int, n_freqs: int, block_type: str, group_divisor: int | None):
        super().__init__()
        if block_type in ("convnext_like", "convnext_like_relu"):
            self.conv_block = ConvNeXtLikeBlock(channels, 2, [(3, 3)], group_divisor,
                                                "relu" if block_type.endswith("relu") else "gelu")
        elif block_type in ("basic_resnet", "basic_resnet_fwse"):
            self.conv_block = ResBasicBlock(channels, n_freqs, min(64, max(channels, 32)), group_divisor,
                                            use_se=block_type.endswith("fwse"))
        else:
            raise ValueError(f"unknown ReDimNet block_2d_type {block_type!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_block(x)


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, dim: int, n_heads: int):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"attention width {dim} is not divisible by {n_heads} heads")
        self.n_heads, self.head_dim = n_heads, dim // n_heads
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D)
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q = split(self.q_proj(x) * self.head_dim ** -0.5)
        scores = torch.softmax(q @ split(self.k_proj(x)).transpose(-1, -2), dim=-1)
        out = (scores @ split(self.v_proj(x))).transpose(1, 2).reshape(b, t, d)
        return self.out_proj(out)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.intermediate_dense = nn.Linear(dim, hidden)
        self.output_dense = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_dense(F.gelu(self.intermediate_dense(x), approximate="tanh"))


class TransformerEncoderLayer(nn.Module):
    """Post-norm transformer layer on channels-first input (B, D, T)."""

    def __init__(self, dim: int, mlp_dim: int, n_heads: int):
        super().__init__()
        self.attention = MultiHeadSelfAttention(dim, n_heads)
        self.layer_norm = nn.LayerNorm(dim, eps=1e-6)
        self.feed_forward = FeedForward(dim, mlp_dim)
        self.final_layer_norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 1)
        x = self.layer_norm(x + self.attention(x))
        x = self.final_layer_norm(x + self.feed_forward(x))
        return x.permute(0, 2, 1)


class ConvPositionalEncoding(nn.Module):
    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.norm = ChannelsFirstLayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.norm(self.conv(x))


class TimeContextBlock1d(nn.Module):
    """Bottleneck to ``hidden`` channels, temporal mixing, expansion back, residual."""

    def __init__(self, channels: int, hidden: int, block_type: str):
        super().__init__()
        self.red_dim_conv = nn.Sequential(nn.Conv1d(channels, hidden, 1), ChannelsFirstLayerNorm(hidden))
        if block_type == "fc":
            self.tcm = nn.Sequential(nn.Conv1d(hidden, hidden * 2, 1), ChannelsFirstLayerNorm(hidden * 2),
                                     nn.GELU(), nn.Conv1d(hidden * 2, hidden, 1))
        elif block_type == "conv":
            self.tcm = nn.Sequential(*[ConvNeXtLikeBlock(hidden, 1, [7, 15, 31], 1) for _ in range(4)])
        elif block_type == "att":
            self.tcm = nn.Sequential(ConvPositionalEncoding(hidden, 59),
                                     TransformerEncoderLayer(hidden, hidden * 2, 4))
        elif block_type == "conv+att":
            self.tcm = nn.Sequential(*[ConvNeXtLikeBlock(hidden, 1, [k], 1) for k in (7, 19, 31, 59)],
                                     TransformerEncoderLayer(hidden, hidden, 4))
        else:
            raise ValueError(f"unknown ReDimNet block_1d_type {block_type!r}")
        self.exp_dim_conv = nn.Conv1d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.exp_dim_conv(self.tcm(self.red_dim_conv(x)))


class Backbone(nn.Module):
    def __init__(self, F: int, C: int, block_1d_type: str, block_2d_type: str, stages_setup: Sequence,
                 group_divisor: int | None, out_channels: int | None):
        super().__init__()
        self.num_stages = len(stages_setup)
        width = F * C
        self.stem = nn.Sequential(nn.Conv2d(1, C, 3, padding="same"), ChannelsFirstLayerNorm(C), Flatten2dTo1d())
        c, f = C, F
        for index, (stride, num_blocks, conv_exp, _kernel_sizes, att_block_red) in enumerate(stages_setup):
            if stride not in (1, 2, 3) or f % stride:
                raise ValueError(f"stage {index}: stride {stride} does not divide {f} frequencies")
            n_inputs = index + 1
            layers: list[nn.Module] = [
                WeightedSum(n_inputs, width if n_inputs > 1 else 1),
                Unflatten1dTo2d(f, c),
                nn.Conv2d(c, stride * c * conv_exp, kernel_size=(stride, 1), stride=(stride, 1)),
            ]
            c, f = stride * c, f // stride
            layers += [Block2d(c * conv_exp, f, block_type=block_2d_type, group_divisor=group_divisor)
                       for _ in range(num_blocks)]
            if conv_exp != 1:
                relu = "relu" in block_1d_type and "relu" in block_2d_type
                layers.append(nn.Sequential(
                    nn.Conv2d(c * conv_exp, c, 3, padding="same",
                              groups=c // group_divisor if group_divisor is not None else 1),
                    nn.BatchNorm2d(c, eps=1e-6), nn.ReLU() if relu else nn.GELU(), nn.Conv2d(c, c, 1)))
            layers.append(Flatten2dTo1d())
            if att_block_red is not None:
                layers.append(TimeContextBlock1d(width, width // att_block_red, block_1d_type))
            setattr(self, f"stage{index}", nn.Sequential(*layers))
        self.fin_wght1d = WeightedSum(self.num_stages + 1, width)
        if out_channels is not None:
            self.mfa = nn.Sequential(nn.Conv1d(width, out_channels, 1), nn.BatchNorm1d(out_channels))
        else:
            self.mfa = nn.Identity()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        outputs = [self.stem(features)]
        for index in range(self.num_stages):
            outputs.append(getattr(self, f"stage{index}")(outputs))
        return self.mfa(self.fin_wght1d(outputs))


class TemporalAveragePooling(nn.Module):
    def __init__(self, in_dim: int, **_: Any):
        super().__init__()
        self.out_dim = in_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)


class TemporalStatisticsPooling(nn.Module):
    def __init__(self, in_dim: int, **_: Any):
        super().__init__()
        self.out_dim = 2 * in_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=-1), torch.sqrt(torch.var(x, dim=-1) + 1e-7)], dim=1)


class AttentiveStatisticsPooling(nn.Module):
    """Channel- and context-dependent attention weights over time; weighted mean and std."""

    def __init__(self, in_dim: int, bottleneck_dim: int = 128, global_context_att: bool = False, **_: Any):
        super().__init__()
        self.global_context_att = global_context_att
        self.linear1 = nn.Conv1d(in_dim * (3 if global_context_att else 1), bottleneck_dim, 1)
        self.linear2 = nn.Conv1d(bottleneck_dim, in_dim, 1)
        self.out_dim = 2 * in_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            x = x.reshape(x.shape[0], -1, x.shape[-1])
        context = x
        if self.global_context_att:
            mean = x.mean(dim=-1, keepdim=True).expand_as(x)
            std = torch.sqrt(x.var(dim=-1, keepdim=True) + 1e-7).expand_as(x)
            context = torch.cat([x, mean, std], dim=1)
        alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(context))), dim=2)
        mean = (alpha * x).sum(dim=2)
        var = (alpha * x * x).sum(dim=2) - mean ** 2
        return torch.cat([mean, torch.sqrt(var.clamp(min=1e-7))], dim=1)


POOLINGS = {"TAP": TemporalAveragePooling, "TSTP": TemporalStatisticsPooling, "ASTP": AttentiveStatisticsPooling}


class ReDimNetEncoder(nn.Module):
    """Waveform (B, samples) at 16 kHz -> speaker embedding (B, embed_dim)."""

    def __init__(self, F: int = 72, C: int = 16, block_1d_type: str = "att", block_2d_type: str = "convnext_like",
                 stages_setup: Sequence = ((1, 2, 1, [(3, 3)], 12), (2, 2, 1, [(3, 3)], 12), (1, 3, 1, [(3, 3)], 12),
                                           (2, 4, 1, [(3, 3)], 8), (1, 4, 1, [(3, 3)], 8), (2, 4, 1, [(3, 3)], 4)),
                 group_divisor: int | None = 4, out_channels: int | None = None, embed_dim: int = 192,
                 num_classes: int | None = None, class_dropout: float = 0.0, feat_agg_dropout: float = 0.0,
                 head_activation: str | None = None, hop_length: int = 160, pooling_func: str = "ASTP",
                 feat_type: str = "pt", global_context_att: bool = False, emb_bn: bool = False,
                 spec_params: dict | None = None, return_all_outputs: bool = False, tf_optimized_arch: bool = False):
        super().__init__()
        if tf_optimized_arch:
            raise ValueError("tf_optimized_arch=True: the official code has no such architecture either "
                             "(ReDimNetTFOpt is referenced but never defined); no released checkpoint uses it")
        if pooling_func not in POOLINGS:
            raise ValueError(f"pooling {pooling_func!r} is not implemented (have: {', '.join(POOLINGS)}); "
                             "no released checkpoint is known to use it")
        spec_params = dict(spec_params if spec_params is not None else
                           {"do_spec_aug": False, "freq_mask_width": (0, 6), "time_mask_width": (0, 8)})
        self.backbone = Backbone(F, C, block_1d_type, block_2d_type, stages_setup, group_divisor, out_channels)
        self.spec = build_front_end(feat_type, F, hop_length, spec_params)
        self.pool = POOLINGS[pooling_func](in_dim=out_channels if out_channels is not None else C * F,
                                           global_context_att=global_context_att)
        self.bn = nn.BatchNorm1d(self.pool.out_dim)
        self.linear = nn.Linear(self.pool.out_dim, embed_dim)
        self.bn2 = nn.BatchNorm1d(embed_dim) if emb_bn else None
        if num_classes is not None:
            # Training-time classifier; kept only so the state dict loads strictly. Not used for embeddings.
            self.cls_head = nn.Sequential(nn.ReLU(), nn.Dropout(class_dropout), nn.Linear(embed_dim, num_classes),
                                          nn.Identity())

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        features = self.spec(waveform)
        if features.ndim == 3:
            features = features.unsqueeze(1)
        embedding = self.linear(self.bn(self.pool(self.backbone(features))))
        return self.bn2(embedding) if self.bn2 is not None else embedding


def n_parameters(model: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())
