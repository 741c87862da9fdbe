"""A contiguous per-layer KV cache: one row per sequence, each row at its own length.

Sequences of different prompt lengths share one cache; a boolean mask hides each row's
unwritten tail, so a batch gives the same attention as each sequence alone."""

from __future__ import annotations

import torch


class KVCache:
    def __init__(self, n_layers: int, batch: int, n_kv_heads: int, max_len: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device | str = "cpu"):
        shape = (batch, n_kv_heads, max_len, head_dim)
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n_layers)]
        self.max_len = max_len

    def update(self, layer: int, rows: torch.Tensor, positions: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        """Write k, v [B, T, kv, hd] at ``positions`` [B, T] of cache ``rows`` [B]; return the keys,
        values and causal mask [B, T, L] the queries may attend to (L = longest row used)."""
        if int(positions.max()) >= self.max_len:
            raise ValueError(f"sequence reached the context limit of {self.max_len} frames")
        row_index = rows[:, None].expand_as(positions)
        self.k[layer][row_index, :, positions] = k
        self.v[layer][row_index, :, positions] = v
        span = int(positions.max()) + 1
        keys = self.k[layer][rows, :, :span]
        values = self.v[layer][rows, :, :span]
        mask = torch.arange(span, device=positions.device)[None, None, :] <= positions[:, :, None]
        return keys, values, mask
