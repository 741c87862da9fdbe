"""ERes2Net (3D-Speaker), the speaker encoder CV3-Eval's similarity column uses
(``damo/speech_eres2net_sv_en_voxceleb_16k``, ``pretrained_eres2net.ckpt``).

Written here because 3D-Speaker's ``speakerlab`` is not a package on PyPI and its feature code
imports torchaudio; the model classes follow ``speakerlab/models/eres2net/ERes2Net.py`` with its
parameter names, so its checkpoints load with strict keys, and
``scripts/eres2net_reference.py`` checks the embeddings against the official code on random
weights. Input: Kaldi fbank ``[B, T, feat_dim]`` (mean-normalized over time by the caller).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class ReLU20(nn.Hardtanh):
    """3D-Speaker's ``ReLU``: clipped at 20."""

    def __init__(self):
        super().__init__(0.0, 20.0)


class AFF(nn.Module):
    """Attentional feature fusion of two same-shaped maps."""

    def __init__(self, channels: int, r: int = 4):
        super().__init__()
        inter = channels // r
        self.local_att = nn.Sequential(
            nn.Conv2d(channels * 2, inter, kernel_size=1), nn.BatchNorm2d(inter), nn.SiLU(),
            nn.Conv2d(inter, channels, kernel_size=1), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        att = 1.0 + torch.tanh(self.local_att(torch.cat((x, y), dim=1)))
        return x * att + y * (2.0 - att)


class Block(nn.Module):
    """BasicBlockERes2Net (``fuse=False``: splits added) and BasicBlockERes2Net_diff_AFF
    (``fuse=True``: splits fused by AFF)."""

    expansion = 2

    def __init__(self, in_planes: int, planes: int, stride: int, fuse: bool, base_width: int = 32, scale: int = 2):
        super().__init__()
        width = int(math.floor(planes * (base_width / 64.0)))
        self.width, self.nums = width, scale
        self.conv1 = nn.Conv2d(in_planes, width * scale, kernel_size=1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, kernel_size=3, padding=1, bias=False) for _ in range(scale))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(scale))
        if fuse:
            self.fuse_models = nn.ModuleList(AFF(width) for _ in range(scale - 1))
        self.fuse = fuse
        self.relu = ReLU20()
        self.conv3 = nn.Conv2d(width * scale, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        splits = torch.split(self.relu(self.bn1(self.conv1(x))), self.width, 1)
        outs, sp = [], None
        for i in range(self.nums):
            if i == 0:
                sp = splits[0]
            else:
                sp = self.fuse_models[i - 1](sp, splits[i]) if self.fuse else sp + splits[i]
            sp = self.relu(self.bns[i](self.convs[i](sp)))
            outs.append(sp)
        out = self.bn3(self.conv3(torch.cat(outs, 1)))
        return self.relu(out + self.shortcut(x))


class ERes2Net(nn.Module):
    def __init__(self, num_blocks: Sequence[int] = (3, 4, 6, 3), m_channels: int = 32, feat_dim: int = 80,
                 embedding_size: int = 192, pooling_func: str = "TSTP", two_emb_layer: bool = False):
        super().__init__()
        if pooling_func != "TSTP":
            raise ValueError(f"pooling {pooling_func!r} is not supported (the released ERes2Net models use TSTP)")
        self.in_planes = m_channels
        stats_dim = int(feat_dim / 8) * m_channels * 8
        self.two_emb_layer = two_emb_layer
        self.conv1 = nn.Conv2d(1, m_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m_channels)
        self.layer1 = self._make_layer(m_channels, num_blocks[0], 1, fuse=False)
        self.layer2 = self._make_layer(m_channels * 2, num_blocks[1], 2, fuse=False)
        self.layer3 = self._make_layer(m_channels * 4, num_blocks[2], 2, fuse=True)
        self.layer4 = self._make_layer(m_channels * 8, num_blocks[3], 2, fuse=True)
        self.layer1_downsample = nn.Conv2d(m_channels * 2, m_channels * 4, kernel_size=3, stride=2, padding=1, bias=False)
        self.layer2_downsample = nn.Conv2d(m_channels * 4, m_channels * 8, kernel_size=3, padding=1, stride=2, bias=False)
        self.layer3_downsample = nn.Conv2d(m_channels * 8, m_channels * 16, kernel_size=3, padding=1, stride=2, bias=False)
        self.fuse_mode12 = AFF(m_channels * 4)
        self.fuse_mode123 = AFF(m_channels * 8)
        self.fuse_mode1234 = AFF(m_channels * 16)
        self.seg_1 = nn.Linear(stats_dim * Block.expansion * 2, embedding_size)
        if two_emb_layer:
            self.seg_bn_1 = nn.BatchNorm1d(embedding_size, affine=False)
            self.seg_2 = nn.Linear(embedding_size, embedding_size)

    def _make_layer(self, planes: int, blocks: int, stride: int, fuse: bool) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(Block(self.in_planes, planes, s, fuse))
            self.in_planes = planes * Block.expansion
        return nn.Sequential(*layers)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = feats.permute(0, 2, 1).unsqueeze(1)  # (B, T, F) -> (B, 1, F, T)
        out = F.relu(self.bn1(self.conv1(x)))
        out1 = self.layer1(out)
        out2 = self.layer2(out1)
        fuse12 = self.fuse_mode12(out2, self.layer1_downsample(out1))
        out3 = self.layer3(out2)
        fuse123 = self.fuse_mode123(out3, self.layer2_downsample(fuse12))
        out4 = self.layer4(out3)
        fused = self.fuse_mode1234(out4, self.layer3_downsample(fuse123))
        # TSTP: mean and standard deviation (unbiased variance, +1e-8) over time
        stats = torch.cat((fused.mean(dim=-1).flatten(1), torch.sqrt(torch.var(fused, dim=-1) + 1e-8).flatten(1)), 1)
        embed = self.seg_1(stats)
        if self.two_emb_layer:
            embed = self.seg_2(self.seg_bn_1(F.relu(embed)))
        return embed
