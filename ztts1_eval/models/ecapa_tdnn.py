"""The ECAPA-TDNN speaker head of UniSpeech's speaker-verification recipe, the one Seed-TTS-Eval's
similarity model (``wavlm_large_finetune.pth``) was trained with.

Written here because the official module (``downstreams/speaker_verification/models/ecapa_tdnn.py``
in microsoft/UniSpeech, copied into seed-tts-eval) builds its front end through ``torch.hub``
downloads and imports torchaudio, which cannot be installed beside our torch. Parameter names are
the official ones, so its checkpoints load with strict keys; ``scripts/unispeech_sv_reference.py``
checks the numbers against the official code on random weights. Its quirks are kept on purpose:
ReLU before BatchNorm, the 1536 pooling channels fixed whatever ``channels`` is, the attention
that sees only the frame (no global context), std clamped at 1e-9.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

POOL_CHANNELS = 1536  # fixed in the official module, independent of ``channels``


class Conv1dReluBn(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, padding: int = 0,
                 dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, 1, padding, dilation)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class Res2Conv1dReluBn(nn.Module):
    """Res2Net split: ``scale - 1`` chained convolutions, the last slice passed through."""

    def __init__(self, channels: int, kernel_size: int, padding: int, dilation: int, scale: int):
        super().__init__()
        if channels % scale:
            raise ValueError(f"channels ({channels}) must be a multiple of scale ({scale})")
        self.width = channels // scale
        self.nums = scale if scale == 1 else scale - 1
        self.convs = nn.ModuleList(nn.Conv1d(self.width, self.width, kernel_size, 1, padding, dilation)
                                   for _ in range(self.nums))
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(self.nums))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        splits = torch.split(x, self.width, 1)
        out, running = [], None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            running = splits[i] if i == 0 else running + splits[i]
            running = bn(F.relu(conv(running)))
            out.append(running)
        if self.nums != len(splits):
            out.append(splits[self.nums])
        return torch.cat(out, dim=1)


class SEConnect(nn.Module):
    def __init__(self, channels: int, bottleneck: int = 128):
        super().__init__()
        self.linear1 = nn.Linear(channels, bottleneck)
        self.linear2 = nn.Linear(bottleneck, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.linear2(F.relu(self.linear1(x.mean(dim=2)))))
        return x * gate.unsqueeze(2)


class SERes2Block(nn.Module):
    def __init__(self, channels: int, kernel_size: int, padding: int, dilation: int, scale: int = 8):
        super().__init__()
        self.Conv1dReluBn1 = Conv1dReluBn(channels, channels)
        self.Res2Conv1dReluBn = Res2Conv1dReluBn(channels, kernel_size, padding, dilation, scale)
        self.Conv1dReluBn2 = Conv1dReluBn(channels, channels)
        self.SE_Connect = SEConnect(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.Conv1dReluBn2(self.Res2Conv1dReluBn(self.Conv1dReluBn1(x)))
        return self.SE_Connect(out) + x


class AttentiveStatsPool(nn.Module):
    def __init__(self, channels: int, attention_channels: int = 128):
        super().__init__()
        self.linear1 = nn.Conv1d(channels, attention_channels, kernel_size=1)
        self.linear2 = nn.Conv1d(attention_channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(x))), dim=2)
        mean = torch.sum(alpha * x, dim=2)
        var = torch.sum(alpha * x ** 2, dim=2) - mean ** 2
        return torch.cat([mean, torch.sqrt(var.clamp(min=1e-9))], dim=1)


class EcapaTdnnHead(nn.Module):
    """Frames ``[B, feat_dim, T]`` (already instance-normalized) to embeddings ``[B, emb_dim]``."""

    def __init__(self, feat_dim: int = 1024, channels: int = 512, emb_dim: int = 256):
        super().__init__()
        self.layer1 = Conv1dReluBn(feat_dim, channels, kernel_size=5, padding=2)
        self.layer2 = SERes2Block(channels, kernel_size=3, padding=2, dilation=2)
        self.layer3 = SERes2Block(channels, kernel_size=3, padding=3, dilation=3)
        self.layer4 = SERes2Block(channels, kernel_size=3, padding=4, dilation=4)
        self.conv = nn.Conv1d(channels * 3, POOL_CHANNELS, kernel_size=1)
        self.pooling = AttentiveStatsPool(POOL_CHANNELS)
        self.bn = nn.BatchNorm1d(POOL_CHANNELS * 2)
        self.linear = nn.Linear(POOL_CHANNELS * 2, emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.layer1(x)
        out2 = self.layer2(out1)
        out3 = self.layer3(out2)
        out4 = self.layer4(out3)
        out = F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))
        return self.linear(self.bn(self.pooling(out)))
