"""Per-codebook sampling (reference §4.2), applied per request with its own parameters and
seeded generator. The official server applies the batch's min top-k / max top-p / max min-p to
every request; here each request keeps its own (the same when all requests share settings)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

EOA = 1024


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.15
    top_k: int = 106
    top_p: float = 0.0  # 0 = off
    min_p: float = 0.18
    repetition_penalty: float = 1.2
    repetition_window: int = 50
    repetition_codebooks: int = 8  # cb0..cb7; negative = all
    seed: int | None = None
    max_frames: int | None = None  # None: up to the context limit (the official server's default)
    ignore_eos: bool = False

    def __post_init__(self):
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError("max_frames must be at least 1")

    @property
    def effective_repetition_penalty(self) -> float:
        """The server clamps the penalty to >= 1 (a value below 1 would reward repeats)."""
        return max(float(self.repetition_penalty), 1.0)

    @property
    def effective_temperature(self) -> float:
        """The server clamps the temperature to >= 1e-6: it always samples, never argmax."""
        return max(float(self.temperature), 1e-6)


def apply_repetition_penalty(logits: torch.Tensor, history: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """logits [C, V]; history [n, C] generated frames. Distinct recent values < 1024 of each
    penalized codebook: positive logits / penalty, others * penalty (no stacking)."""
    penalty = params.effective_repetition_penalty
    if penalty == 1.0 or params.repetition_window <= 0 or len(history) == 0:
        return logits
    n_cb = logits.shape[0] if params.repetition_codebooks < 0 else min(params.repetition_codebooks, logits.shape[0])
    recent = history[-params.repetition_window:, :n_cb]
    seen = torch.zeros(n_cb, logits.shape[1], dtype=torch.bool, device=logits.device)
    valid = recent < EOA
    cols = torch.arange(n_cb, device=logits.device).expand_as(recent)
    seen[cols[valid], recent[valid]] = True
    head = logits[:n_cb]
    penalized = torch.where(head > 0, head / penalty, head * penalty)
    out = logits.clone()
    out[:n_cb] = torch.where(seen, penalized, head)
    return out


def filter_probs(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, top-k, softmax, top-p, min-p -> probabilities [C, V] (rows may be all zero)."""
    logits = logits / params.effective_temperature
    k = params.top_k if params.top_k >= 1 else 1024
    k = min(k, logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if 0.0 < params.top_p < 1.0:
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # mass of strictly more likely tokens
        sorted_p = sorted_p.masked_fill(before > params.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        probs = probs / probs.sum(-1, keepdim=True).clamp_min(1e-30)
    if params.min_p > 0.0:
        probs = probs.masked_fill(probs < params.min_p * probs.max(dim=-1, keepdim=True).values, 0.0)
        probs = probs / probs.sum(-1, keepdim=True).clamp_min(1e-30)
    return probs


def sample_frame(logits: torch.Tensor, history: torch.Tensor, params: SamplingParams,
                 generator: torch.Generator | None) -> torch.Tensor:
    """One frame of codes [C] from post-softcap logits [C, V]."""
    return sample_frames(logits[None], [history], [params], [generator])[0]


def sample_frames(logits: torch.Tensor, histories: list[torch.Tensor], params: list[SamplingParams],
                  generators: list[torch.Generator | None]) -> list[torch.Tensor]:
    """One frame of codes [C] per row of logits [B, C, V], each row with its own history,
    parameters and generator. Rows whose filter settings agree are filtered in one batch: every
    filter step works row by row, so each row gets the bits it would get alone."""
    groups: dict[SamplingParams, list[int]] = {}
    for row, row_params in enumerate(params):
        groups.setdefault(replace(row_params, seed=None, max_frames=None, ignore_eos=False), []).append(row)
    codes: list[torch.Tensor] = [torch.empty(0)] * len(params)
    for shared, rows in groups.items():
        penalized = torch.stack([apply_repetition_penalty(logits[r].float(), histories[r], shared) for r in rows])
        probs = filter_probs(penalized.flatten(0, 1), shared).view_as(penalized)
        for j, row in enumerate(rows):
            codes[row] = _draw(probs[j], penalized[j], generators[row])
    return codes


def _draw(probs: torch.Tensor, logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """A code per codebook; a codebook whose filters left nothing takes its argmax."""
    empty = probs.sum(-1) <= 0
    if bool(empty.any()):
        probs[empty] = torch.nn.functional.one_hot(logits[empty].argmax(-1), logits.shape[-1]).float()
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
