"""oneDNN-packed bf16 weights for decoding on a CPU.

A decode step multiplies one row (or a few) by every weight matrix, so it is bound by how fast
the weights stream from memory. ``F.linear`` on a plain bf16 weight re-lays it out for oneDNN
on every call; packing each matrix once into oneDNN's blocked layout (the ops Inductor's CPU
freezing pass uses) streams it ~1.5x faster here, for any row count, with the same bits
(``tests/test_zonos2_model.py`` checks every logit and token). The attention's q, k|v and gate
matrices become one. Packing replaces the weights: a packed model only runs forward passes.

Measured and left out (``zonos2/README.md``): an Inductor-compiled reduction streams a one-row
product faster, but rounds differently, so tokens could change."""

from __future__ import annotations

import torch
from torch import nn

from zonos2.model import Attention, Experts

MODES = ("auto", "onednn", "torch")


def onednn_supported(dtype: torch.dtype, device: torch.device | str) -> bool:
    return (torch.device(device).type == "cpu" and dtype == torch.bfloat16 and torch.backends.mkldnn.is_available()
            and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def pack(weight: torch.Tensor) -> torch.Tensor:
    """[out, in] weight -> oneDNN's blocked layout (measured: no faster with a batch-size hint)."""
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach())


def packed_linear(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class PackedLinear(nn.Module):
    """Drop-in for a bf16 ``nn.Linear`` whose weight lives in oneDNN's layout."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self.packed = pack(weight)
        self.bias = None if bias is None else bias.detach()

    @classmethod
    def of(cls, *linears: nn.Linear) -> "PackedLinear":
        """One packed matrix for linears that read the same input (outputs concatenated; each
        output is the same dot product, so the same bits as separate calls)."""
        if len(linears) == 1:
            return cls(linears[0].weight, linears[0].bias)
        return cls(torch.cat([linear.weight for linear in linears]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return packed_linear(x, self.packed, self.bias)


def pack_for_decode(model: nn.Module, mode: str = "auto") -> str:
    """Pack every bf16 linear of the model in place (``auto``: where oneDNN has bf16 on this
    CPU). Returns the kernels in use: ``onednn`` or ``torch``."""
    if mode not in MODES:
        raise ValueError(f"cpu_kernels must be one of {MODES}, got {mode!r}")
    weight = next(model.parameters())
    supported = onednn_supported(weight.dtype, weight.device)
    if mode == "torch" or (mode == "auto" and not supported):
        return "torch"
    if not supported:
        raise ValueError(f"cpu_kernels=onednn needs bf16 weights on a CPU with oneDNN bf16 support "
                         f"(weights are {weight.dtype} on {weight.device})")
    for parent in list(model.modules()):
        if isinstance(parent, Experts):
            parent.pack_experts()
        if isinstance(parent, Attention) and parent.fused_in is None:  # q, kv and gate: one matrix, one call
            parent.fused_in = PackedLinear.of(parent.wq, parent.wkv, parent.gater)
            del parent.wq, parent.wkv, parent.gater
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear and child.weight.dtype == torch.bfloat16:
                setattr(parent, name, PackedLinear.of(child))
    return "onednn"
