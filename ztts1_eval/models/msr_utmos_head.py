"""MSR-UTMOS's listener-conditioned MOS head (Nishikawa et al., 2025), shaped from a checkpoint.

Parameter names follow the released Lightning checkpoints (``pred_liner``, ``listenr_embedding``,
both sic), so ``load_state_dict(strict=True)`` checks the layout.
"""

from __future__ import annotations

import torch
from torch import nn


class MOSHead(nn.Module):
    """frames (1, T, H) + listener embedding e_l -> per-frame score -> mean over time -> tanh."""

    def __init__(self, hidden: int, n_listeners: int, inner: int | None):
        super().__init__()
        self.listenr_embedding = nn.Embedding(n_listeners, hidden)
        if inner is None:  # checkpoints before the final submission: one linear layer
            self.pred_liner = nn.Linear(hidden, 1)
        else:
            self.pred_liner = nn.Sequential(nn.Linear(hidden, inner), nn.SiLU(), nn.Linear(inner, 1))

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> "MOSHead":
        if "sr_embedding.weight" in state:
            raise ValueError("this checkpoint conditions on the sample rate (condition_sr, used with non-SFI "
                             "backbones); only the SFI release is supported")
        if "listenr_embedding.weight" not in state:
            raise ValueError(f"no listenr_embedding.weight among the head keys {sorted(state)[:6]}")
        n_listeners, hidden = state["listenr_embedding.weight"].shape
        inner = state["pred_liner.0.weight"].shape[0] if "pred_liner.0.weight" in state else None
        head = cls(hidden, n_listeners, inner)
        head.load_state_dict(state, strict=True)
        return head.eval()

    def forward(self, frames: torch.Tensor, listener_ids: torch.Tensor) -> torch.Tensor:
        conditioned = frames + self.listenr_embedding(listener_ids)[:, None, :]  # (L, T, H)
        return torch.tanh(self.pred_liner(conditioned).mean(dim=1)).squeeze(-1)  # (L,)
