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

    def bind(self, rows: torch.Tensor, positions: torch.Tensor) -> None:
        """Set up the forward pass that writes ``positions`` [B, T] of cache ``rows`` [B]: the
        indices, the span read back and the causal mask [B, T, L], once for all layers.
        Consecutive rows (the usual batch) are read as a view, not gathered."""
        if int(positions.max()) >= self.max_len:
            raise ValueError(f"sequence reached the context limit of {self.max_len} frames")
        self._write = (rows[:, None].expand_as(positions), slice(None), positions)
        first, count = int(rows[0]), len(rows)
        consecutive = torch.equal(rows, torch.arange(first, first + count, device=rows.device))
        self._read = slice(first, first + count) if consecutive else rows
        self._span = int(positions.max()) + 1
        self.mask = torch.arange(self._span, device=positions.device)[None, None, :] <= positions[:, :, None]
        self.hidden = self.scratch = None
        if positions.shape[1] == 1:  # decode: what ``model.decode_attention`` reads (prefill uses the mask)
            _, n_kv, _, head_dim = self.k[0].shape
            self.hidden = torch.zeros(self.mask.shape, dtype=torch.float32, device=positions.device).masked_fill_(
                ~self.mask, float("-inf")).repeat_interleave(n_kv, dim=0)  # [B * kv, 1, L] additive
            # fp32 copies of one layer's keys and values, reused by every layer (a fresh MB-sized
            # tensor per layer costs its page faults each time: up to 20 ms a step at batch 8)
            self.scratch = torch.empty((2, count, n_kv, self._span, head_dim), dtype=torch.float32,
                                       device=positions.device)

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Write k, v [B, T, kv, hd] of the bound pass; return the keys, values [B, kv, L, hd]
        (L = longest row used) and the mask [B, T, L] the queries may attend to."""
        self.k[layer][self._write] = k
        self.v[layer][self._write] = v
        return self.k[layer][self._read, :, :self._span], self.v[layer][self._read, :, :self._span], self.mask
