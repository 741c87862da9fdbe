"""The ZONOS2 transformer, written from the model's published definition
(shared/docs/zonos2-reference.md §2): hand-written because no library ships this architecture
(EDA router chain, head-wise gated attention with |temp| QK-norm, multi-codebook I/O).

Parameter names equal the official checkpoint after the load-time transforms in
``checkpoint.py`` (w13 de-interleaved, wkv and w_in flattened)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zonos2.config import Zonos2Config
from zonos2.kv_cache import KVCache

QK_NORM_EPS = 1e-6


def rms_norm(x: torch.Tensor, eps: float, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Plain RMSNorm (multiply by w, not 1 + w), accumulated in fp32."""
    xf = x.float()
    out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    if weight is not None:
        out = out * weight.float()
    return out.to(x.dtype)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.eps, self.weight)


def rope_tables(config: Zonos2Config, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape [max_seqlen, head_dim/2] in fp32."""
    half = config.head_dim // 2
    inv_freq = config.rope_theta ** (-torch.arange(0, half, dtype=torch.float64, device=device) * 2 / config.head_dim)
    angles = torch.arange(config.max_seqlen, dtype=torch.float64, device=device)[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Interleaved (GPT-J) RoPE: pairs (2i, 2i+1). x: [B, T, heads, hd]; cos/sin: [B, T, hd/2]."""
    xf = x.float().unflatten(-1, (-1, 2))
    a, b = xf[..., 0], xf[..., 1]
    c, s = cos[:, :, None, :], sin[:, :, None, :]
    return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        self.n_heads, self.n_kv, self.hd = config.heads, config.n_kv_heads, config.head_dim
        self.wq = nn.Linear(config.dim, self.n_heads * self.hd, bias=False)
        self.wkv = nn.Linear(config.dim, 2 * self.n_kv * self.hd, bias=False)  # [K | V]
        self.wo = nn.Linear(self.n_heads * self.hd, config.dim, bias=False)
        self.temp = nn.Parameter(torch.ones(1, self.n_heads, 1))
        self.gater = nn.Linear(config.dim, self.n_heads, bias=False)

    def forward(self, u: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache, layer: int,
                positions: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        B, T, _ = u.shape
        gate = torch.sigmoid(self.gater(u))  # [B, T, H]
        q = self.wq(u).view(B, T, self.n_heads, self.hd)
        k, v = self.wkv(u).split(self.n_kv * self.hd, dim=-1)
        k = k.view(B, T, self.n_kv, self.hd)
        v = v.view(B, T, self.n_kv, self.hd)
        q = rms_norm(q, QK_NORM_EPS) * self.temp.abs().view(1, 1, self.n_heads, 1).to(q.dtype)
        k = rms_norm(k, QK_NORM_EPS)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        keys, values, mask = cache.update(layer, rows, positions, k, v)  # [B, kv, L, hd], mask [B, T, L]
        group = self.n_heads // self.n_kv
        keys = keys.repeat_interleave(group, dim=1)
        values = values.repeat_interleave(group, dim=1)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), keys, values, attn_mask=mask[:, None])
        out = out.transpose(1, 2) * gate[..., None].to(out.dtype)  # head-wise sigmoid gate
        return self.wo(out.reshape(B, T, self.n_heads * self.hd))


class DenseFFN(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        self.inter = config.ffn_dim
        self.w_in = nn.Linear(config.dim, 2 * self.inter, bias=False)  # chunk 0 = up, chunk 1 = gate
        self.w_out = nn.Linear(self.inter, config.dim, bias=False)

    def forward(self, u: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        up, gate = self.w_in(u).split(self.inter, dim=-1)
        return self.w_out(up * F.silu(gate)), None  # a dense layer ends the router-state chain


class Router(nn.Module):
    def __init__(self, config: Zonos2Config, layer: int):
        super().__init__()
        rd, n_experts = config.moe_router_dim, config.moe_n_experts
        self.eps = config.norm_eps
        self.topk = config.router_topk(layer)
        self.down_proj = nn.Linear(config.dim, rd)
        self.router_mlp = nn.Sequential(nn.Linear(rd, rd), nn.GELU(approximate="none"), nn.Linear(rd, rd),
                                        nn.GELU(approximate="none"), nn.Linear(rd, n_experts, bias=False))
        self.rmsnorm_eda = RMSNorm(rd, config.norm_eps)
        self.balancing_biases = nn.Parameter(torch.zeros(n_experts))
        # The first MoE layer has no EDA input and no scale in the checkpoint.
        self.has_eda = layer != config.moe_start_from_layer
        self.router_states_scale = nn.Parameter(torch.zeros(rd)) if self.has_eda else None

    def forward(self, u: torch.Tensor, prev_state: torch.Tensor | None):
        rho = self.down_proj(u)
        if self.has_eda and prev_state is not None:
            rho = rho + prev_state * self.router_states_scale
        state = rho  # passed on *before* the norm
        logits = self.router_mlp(self.rmsnorm_eda(rho))
        probs = torch.softmax(logits.float(), dim=-1)
        # Select on p + bias ("legacy" balancing) but weight by the unbiased, unrenormalized p.
        chosen = torch.topk(probs + self.balancing_biases.float(), self.topk, dim=-1).indices
        return chosen, probs.gather(-1, chosen), state


class Experts(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        e, d, f = config.moe_n_experts, config.dim, config.ffn_dim
        self.inter = f
        self.gate_up_proj = nn.Parameter(torch.empty(e, 2 * f, d))  # rows: [gate ; up]
        self.down_proj = nn.Parameter(torch.empty(e, d, f))
        self.last_experts_used = 0  # read by the decode benchmark's roofline

    def forward(self, x: torch.Tensor, chosen: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Grouped dispatch: tokens sorted by expert, one GEMM pair per used expert."""
        n, k = chosen.shape
        flat_expert = chosen.reshape(-1)
        flat_token = torch.arange(n, device=x.device).repeat_interleave(k)
        order = torch.argsort(flat_expert, stable=True)
        counts = torch.bincount(flat_expert, minlength=self.gate_up_proj.shape[0]).tolist()
        self.last_experts_used = sum(1 for c in counts if c)
        token_sorted = flat_token[order]
        weight_sorted = weights.reshape(-1)[order]
        out = torch.zeros_like(x, dtype=torch.float32)  # weights applied and summed in fp32, cast once
        start = 0
        for expert, count in enumerate(counts):
            if count == 0:
                continue
            idx = token_sorted[start:start + count]
            h = x[idx] @ self.gate_up_proj[expert].T
            gate, up = h.split(self.inter, dim=-1)
            y = (F.silu(gate) * up) @ self.down_proj[expert].T
            out.index_add_(0, idx, y.float() * weight_sorted[start:start + count, None])
            start += count
        return out.to(x.dtype)


class MoEFFN(nn.Module):
    def __init__(self, config: Zonos2Config, layer: int):
        super().__init__()
        self.router = Router(config, layer)
        self.experts = Experts(config)

    def forward(self, u: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        shape = u.shape
        flat = u.reshape(-1, shape[-1])
        chosen, weights, new_state = self.router(flat, None if state is None else state.reshape(-1, state.shape[-1]))
        return self.experts(flat, chosen, weights).view(shape), new_state.view(*shape[:-1], -1)


class Block(nn.Module):
    def __init__(self, config: Zonos2Config, layer: int):
        super().__init__()
        self.attention_norm = RMSNorm(config.dim, config.norm_eps)
        self.attention = Attention(config)
        self.ffn_norm = RMSNorm(config.dim, config.norm_eps)
        self.feed_forward = MoEFFN(config, layer) if config.is_moe(layer) else DenseFFN(config)


class MultiEmbedder(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        tables = [nn.Embedding(config.audio_vocab, config.dim) for _ in range(config.n_codebooks)]
        tables.append(nn.Embedding(config.text_vocab + 1, config.dim))
        self.embedders = nn.ModuleList(tables)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        # Sum of all columns (in fp32, cast once); pad rows are real rows and are not masked.
        out = self.embedders[0](frames[..., 0]).float()
        for column in range(1, len(self.embedders)):
            out = out + self.embedders[column](frames[..., column]).float()
        return out.to(self.embedders[0].weight.dtype)


class Zonos2Model(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        self.config = config
        self.multi_embedder = MultiEmbedder(config)
        if config.speaker_enabled:
            self.speaker_lda_projection = nn.Linear(config.speaker_embedding_dim, config.speaker_lda_dim)
            self.speaker_projection = nn.Linear(config.speaker_lda_dim, config.dim)
        self.layers = nn.ModuleList(Block(config, i) for i in range(config.n_layers))
        self.out_norm = RMSNorm(config.dim, config.norm_eps)
        self.multi_output = nn.Linear(config.dim, config.n_codebooks * config.audio_vocab, bias=False)
        cos, sin = rope_tables(config)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def project_speaker(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.speaker_projection(self.speaker_lda_projection(embedding))

    @torch.inference_mode()
    def forward(self, frames: torch.Tensor, positions: torch.Tensor, cache: KVCache, rows: torch.Tensor,
                speaker: torch.Tensor | None = None, last_only: bool = True) -> torch.Tensor:
        """frames [B, T, 10] ids at ``positions`` [B, T] for cache rows ``rows`` [B].
        ``speaker`` [B, 2048] replaces the embedding of rows whose position is 0 (the speaker slot).
        Returns softcapped logits [B, T or 1, n_codebooks, audio_vocab] in fp32."""
        config = self.config
        x = self.multi_embedder(frames)
        if speaker is not None:
            slot = positions == 0
            if slot.any():
                projected = self.project_speaker(speaker.to(x.dtype)).to(x.dtype)  # [B, dim]
                x = torch.where(slot[..., None], projected[:, None, :], x)
        h = rms_norm(x, config.norm_eps)  # weightless embedding norm; the residual starts here
        cos, sin = self.rope_cos[positions], self.rope_sin[positions]
        state = None
        for index, block in enumerate(self.layers):
            h = h + block.attention(block.attention_norm(h), cos, sin, cache, index, positions, rows)
            f, state = block.feed_forward(block.ffn_norm(h), state)
            h = h + f
        if last_only:
            h = h[:, -1:]
        logits = self.multi_output(self.out_norm(h)).float()
        logits = config.loss_softcap * torch.tanh(logits / config.loss_softcap)
        return logits.view(*h.shape[:2], config.n_codebooks, config.audio_vocab)
