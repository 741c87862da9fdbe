"""ZONOS2 model config, read from the release ``params.json`` (see shared/docs/zonos2-params.json),
with every derived quantity (heads, FFN width, MoE layer range, conditioning ids) in one place."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


# The released 8B model's params.json (a copy of shared/docs/zonos2-params.json).
RELEASE_PARAMS = Path(__file__).resolve().parent / "release_params.json"


class ConfigError(ValueError):
    """params.json that this runner cannot serve."""


@dataclass(frozen=True)
class Zonos2Config:
    n_layers: int = 28
    dim: int = 2048
    head_dim: int = 128
    n_heads: int | None = None
    n_kv_heads: int = 4
    ffn_dim_multiplier: float = 1.5
    multiple_of: int = 256
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_seqlen: int = 6144
    n_codebooks: int = 9
    codebook_size: int = 1024
    eoa_id: int = 1024
    audio_pad_id: int = 1025
    text_vocab: int = 519
    loss_softcap: float = 15.0
    speaker_enabled: bool = True
    speaker_embedding_dim: int = 2048
    speaker_lda_dim: int = 1024
    speaker_background_token_enabled: bool = True
    accurate_mode_token_enabled: bool = True
    speaking_rate_num_buckets: int = 8
    speaking_rate_buckets: tuple[str, ...] = ("0-8", "8-11", "11-14", "14-17", "17-21", "21-28", "28-40", "40+")
    quality_num_buckets: int = 60
    quality_features: tuple[str, ...] = ("lufs", "estimated_snr", "max_pause", "estimated_bandlimit_hz",
                                         "leading_silence_s", "trailing_silence_s")
    quality_buckets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    moe_impl: str = "sonic"
    moe_n_experts: int = 16
    moe_router_topk: int = 1
    special_topk_layers: dict[int, int] = field(default_factory=dict)
    moe_router_dim: int = 128
    moe_start_from_layer: int = 3
    moe_end_from_layer: int = 1
    moe_balancing_strategy: str = "legacy"
    dtype: str = "bfloat16"
    model_type: str = "zonos2"

    # ---- derived -------------------------------------------------------------------------
    @property
    def heads(self) -> int:
        return self.n_heads or self.dim // self.head_dim

    @property
    def ffn_dim(self) -> int:
        """round_up(multiplier * dim, multiple_of); the same for dense layers and experts."""
        raw = int(self.ffn_dim_multiplier * self.dim)
        return self.multiple_of * math.ceil(raw / self.multiple_of)

    @property
    def audio_vocab(self) -> int:
        return self.codebook_size + 2  # + EOA + pad

    @property
    def text_pad_id(self) -> int:
        return self.text_vocab

    @property
    def moe_layers(self) -> range:
        return range(self.moe_start_from_layer, self.n_layers - self.moe_end_from_layer)

    def is_moe(self, layer: int) -> bool:
        return layer in self.moe_layers

    def router_topk(self, layer: int) -> int:
        return self.special_topk_layers.get(layer, self.moe_router_topk)

    @property
    def condition_base(self) -> int:
        """First conditioning id: rate, then quality per feature, background, accurate."""
        n = self.speaking_rate_num_buckets + self.quality_num_buckets
        n += 2 if self.speaker_background_token_enabled else 0
        n += 1 if self.accurate_mode_token_enabled else 0
        return self.text_vocab - n

    @property
    def quality_base(self) -> int:
        return self.condition_base + self.speaking_rate_num_buckets

    def quality_offset(self, feature: str) -> int:
        offset = self.quality_base
        for name in self.quality_features:
            if name == feature:
                return offset
            offset += len(self.quality_buckets[name])
        raise KeyError(f"unknown quality feature {feature!r}; known: {list(self.quality_features)}")

    @property
    def background_ids(self) -> tuple[int, int]:
        """(clean, noisy)"""
        base = self.quality_base + self.quality_num_buckets
        return base, base + 1

    @property
    def accurate_id(self) -> int:
        return self.quality_base + self.quality_num_buckets + (2 if self.speaker_background_token_enabled else 0)

    # ---- I/O -----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Zonos2Config":
        if "model" in raw and isinstance(raw["model"], dict):
            raw = raw["model"]
        if raw.get("model_type", "zonos2") != "zonos2":
            raise ConfigError(f"params.json has model_type={raw.get('model_type')!r}; this runner serves 'zonos2'")
        if raw.get("moe_impl", "sonic") != "sonic":
            raise ConfigError(f"moe_impl={raw['moe_impl']!r} is not supported (the release uses 'sonic')")
        if raw.get("moe_balancing_strategy", "legacy") != "legacy":
            raise ConfigError("only the release's 'legacy' expert selection (probability + bias) is implemented")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in known}
        for key in ("speaking_rate_buckets", "quality_features"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        kwargs["quality_buckets"] = {k: tuple(v) for k, v in (raw.get("quality_buckets") or {}).items()}
        kwargs["special_topk_layers"] = {int(k): int(v) for k, v in (raw.get("special_topk_layers") or {}).items()}
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Zonos2Config":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["speaking_rate_buckets"] = list(self.speaking_rate_buckets)
        out["quality_features"] = list(self.quality_features)
        out["quality_buckets"] = {k: list(v) for k, v in self.quality_buckets.items()}
        out["special_topk_layers"] = {str(k): v for k, v in self.special_topk_layers.items()}
        return out

    def validate(self) -> None:
        problems = []
        if self.dim % self.head_dim:
            problems.append(f"dim {self.dim} is not a multiple of head_dim {self.head_dim}")
        if self.heads % self.n_kv_heads:
            problems.append(f"{self.heads} query heads do not split over {self.n_kv_heads} KV heads")
        if self.head_dim % 2:
            problems.append("head_dim must be even for RoPE")
        if len(self.speaking_rate_buckets) != self.speaking_rate_num_buckets:
            problems.append("speaking_rate_buckets does not have speaking_rate_num_buckets labels")
        missing = [f for f in self.quality_features if f not in self.quality_buckets]
        if missing:
            problems.append(f"quality_buckets lacks features {missing}")
        elif sum(len(self.quality_buckets[f]) for f in self.quality_features) != self.quality_num_buckets:
            problems.append("quality bucket counts do not sum to quality_num_buckets")
        if self.condition_base < 192 + 256:
            problems.append(f"conditioning ids (from {self.condition_base}) overlap the byte ids 192..447")
        if problems:
            raise ConfigError("invalid ZONOS2 params.json: " + "; ".join(problems))


def release_config() -> Zonos2Config:
    return Zonos2Config.from_file(RELEASE_PARAMS)
