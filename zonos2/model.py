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


def rms_norm(x: torch.Tensor, eps: float, weight: torch.Tensor | None = None, dtype: torch.dtype | None = None
             ) -> torch.Tensor:
    """Plain RMSNorm (multiply by w, not 1 + w). PyTorch's kernel computes in fp32 and casts
    once; ``dtype=torch.float32`` keeps that fp32 result."""
    if dtype is not None and dtype != x.dtype:
        x = x.to(dtype)
    return F.rms_norm(x, x.shape[-1:], weight, eps)


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


def rope_rotation(cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """cos + i sin [B, T, hd/2] as complex64 [B, T, 1, hd/2], shared by every head and layer."""
    return torch.complex(cos, sin)[:, :, None, :]


def apply_rope(x: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Interleaved (GPT-J) RoPE in fp32: pair (2i, 2i+1) is the complex number x_2i + i x_2i+1,
    multiplied by the position's rotation. x: [B, T, heads, hd] -> fp32 of the same shape."""
    pairs = torch.view_as_complex(x.float().contiguous().unflatten(-1, (-1, 2)))
    return torch.view_as_real(pairs * rotation).flatten(-2)


class Attention(nn.Module):
    def __init__(self, config: Zonos2Config):
        super().__init__()
        self.n_heads, self.n_kv, self.hd = config.heads, config.n_kv_heads, config.head_dim
        self.wq = nn.Linear(config.dim, self.n_heads * self.hd, bias=False)
        self.wkv = nn.Linear(config.dim, 2 * self.n_kv * self.hd, bias=False)  # [K | V]
        self.wo = nn.Linear(self.n_heads * self.hd, config.dim, bias=False)
        self.temp = nn.Parameter(torch.ones(1, self.n_heads, 1))
        self.gater = nn.Linear(config.dim, self.n_heads, bias=False)
        self.fused_in: nn.Module | None = None  # [wq; wkv; gater] in one matrix (cpu_kernels)

    def project_in(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[q | k], v and the gate logits of ``u``."""
        sizes = [(self.n_heads + self.n_kv) * self.hd, self.n_kv * self.hd, self.n_heads]
        if self.fused_in is not None:
            return self.fused_in(u).split(sizes, dim=-1)
        return torch.cat([self.wq(u), self.wkv(u)], dim=-1).split(sizes[:2], dim=-1) + (self.gater(u),)

    def forward(self, u: torch.Tensor, rotation: torch.Tensor, cache: KVCache, layer: int) -> torch.Tensor:
        B, T, _ = u.shape
        qk, v, gate = self.project_in(u)
        # Weightless QK-norm on q and k heads at once, |temp| on q; kept in fp32 through RoPE.
        qk = rms_norm(qk.unflatten(-1, (-1, self.hd)), QK_NORM_EPS, dtype=torch.float32)
        qk[:, :, :self.n_heads] *= self.temp.abs().view(self.n_heads, 1)
        q, k = apply_rope(qk, rotation).split([self.n_heads, self.n_kv], dim=2)
        keys, values, mask = cache.update(layer, k.to(u.dtype), v.unflatten(-1, (self.n_kv, self.hd)))
        if T == 1:
            out = decode_attention(q, cache.scratch[0].copy_(keys), cache.scratch[1].copy_(values), cache.hidden)
        else:
            out = F.scaled_dot_product_attention(q.to(u.dtype).transpose(1, 2), keys, values, attn_mask=mask[:, None],
                                                 enable_gqa=True).transpose(1, 2)
        out = out * torch.sigmoid(gate.float())[..., None]  # head-wise sigmoid gate
        return self.wo(out.to(u.dtype).reshape(B, T, self.n_heads * self.hd))


def decode_attention(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """Attention of one new query per row, q [B, 1, H, hd] over keys/values [B, kv, L, hd] with
    ``hidden`` [B * kv, 1, L] (0 where visible, -inf where not, per KV head), in
    fp32 as flash attention keeps scores; the query heads of a KV head form one matrix. PyTorch's
    CPU flash kernel takes ~10x longer on single-query steps (1 ms vs 0.15 ms at batch 8, 80
    frames; 14 ms vs 1.5 ms at 1000 frames); this agrees with it within one bf16 rounding.
    Returns fp32 [B, 1, H, hd]."""
    B, _, H, hd = q.shape
    n_kv, span = keys.shape[1], keys.shape[2]
    grouped = q.reshape(B * n_kv, H // n_kv, hd).float()
    scores = torch.baddbmm(hidden, grouped,  # [B*kv, group, L]
                           keys.float().reshape(B * n_kv, span, hd).transpose(1, 2), alpha=hd ** -0.5)
    return torch.bmm(torch.softmax(scores, dim=-1), values.float().reshape(B * n_kv, span, hd)).reshape(B, 1, H, hd)


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
        self.linear = F.linear  # the matrix kernel: oneDNN's once packed (zonos2.cpu_kernels)
        self.packed: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self.last_experts_used = 0  # read by the decode benchmark's roofline

    def pack_experts(self) -> None:
        """Each expert's two matrices in oneDNN's layout (``zonos2.cpu_kernels``); the originals go."""
        from zonos2.cpu_kernels import pack, packed_linear

        if self.packed is None:
            self.packed = [(pack(gate_up), pack(down)) for gate_up, down in zip(self.gate_up_proj, self.down_proj)]
            self.linear = packed_linear
            del self.gate_up_proj, self.down_proj

    def expert_ffn(self, expert: int, x: torch.Tensor) -> torch.Tensor:
        gate_up, down = self.packed[expert] if self.packed else (self.gate_up_proj[expert], self.down_proj[expert])
        gate, up = self.linear(x, gate_up).split(self.inter, dim=-1)
        return self.linear(F.silu(gate) * up, down)

    def forward(self, x: torch.Tensor, chosen: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Grouped dispatch: one GEMM pair per used expert over its tokens (in token order),
        experts in ascending order. The (token, choice) slots are grouped in Python: a decode
        step has a handful, and a few list operations beat a sort on the device."""
        k = chosen.shape[1]
        groups: dict[int, list[int]] = {}
        for slot, expert in enumerate(chosen.reshape(-1).tolist()):
            groups.setdefault(expert, []).append(slot)
        self.last_experts_used = len(groups)
        flat_weights = weights.reshape(-1, 1).float()
        out = torch.zeros_like(x, dtype=torch.float32)  # weights applied and summed in fp32, cast once
        for expert in sorted(groups):
            slots = torch.tensor(groups[expert], device=x.device)
            tokens = slots // k
            out.index_add_(0, tokens, self.expert_ffn(expert, x[tokens]).float() * flat_weights[slots])
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
        rotation = rope_rotation(self.rope_cos[positions], self.rope_sin[positions])
        cache.bind(rows, positions)
        state = None
        for index, block in enumerate(self.layers):
            h = h + block.attention(block.attention_norm(h), rotation, cache, index)
            f, state = block.feed_forward(block.ffn_norm(h), state)
            h = h + f
        if last_only:
            h = h[:, -1:]
        logits = self.multi_output(self.out_norm(h)).float()
        logits = config.loss_softcap * torch.tanh(logits / config.loss_softcap)
        return logits.view(*h.shape[:2], config.n_codebooks, config.audio_vocab)
