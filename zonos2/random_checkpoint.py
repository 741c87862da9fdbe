"""Write a random-weight checkpoint in the *official* format (key names, interleaved ``w13``,
3-D ``wkv``/``w_in``, no ``router_states_scale`` on the first MoE layer, bf16 pickle): for
tests at tiny size and for speed benchmarks at the released size."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from zonos2.config import RELEASE_PARAMS, Zonos2Config


def official_state_dict(config: Zonos2Config, seed: int = 0, dtype: torch.dtype = torch.bfloat16,
                        std: float = 0.02) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape: int, scale: float = std) -> torch.Tensor:
        return (torch.randn(*shape, generator=g) * scale).to(dtype)

    d, hd, h, kv, f = config.dim, config.head_dim, config.heads, config.n_kv_heads, config.ffn_dim
    e, rd = config.moe_n_experts, config.moe_router_dim
    sd: dict[str, torch.Tensor] = {}
    for c in range(config.n_codebooks):
        sd[f"multi_embedder.embedders.{c}.weight"] = rnd(config.audio_vocab, d, scale=1.0)
    sd[f"multi_embedder.embedders.{config.n_codebooks}.weight"] = rnd(config.text_vocab + 1, d, scale=1.0)
    if config.speaker_enabled:
        sd["speaker_lda_projection.weight"] = rnd(config.speaker_lda_dim, config.speaker_embedding_dim)
        sd["speaker_lda_projection.bias"] = rnd(config.speaker_lda_dim)
        sd["speaker_projection.weight"] = rnd(d, config.speaker_lda_dim, scale=0.5)
        sd["speaker_projection.bias"] = rnd(d)
    for layer in range(config.n_layers):
        p = f"layers.{layer}."
        sd[p + "attention_norm.weight"] = (1 + rnd(d, scale=0.1)).to(dtype)
        sd[p + "ffn_norm.weight"] = (1 + rnd(d, scale=0.1)).to(dtype)
        sd[p + "attention.wq.weight"] = rnd(h * hd, d)
        sd[p + "attention.wkv.weight"] = rnd(2, kv * hd, d)
        sd[p + "attention.wo.weight"] = rnd(d, h * hd)
        sd[p + "attention.temp"] = rnd(1, h, 1, scale=1.0) + torch.tensor(2.0, dtype=dtype)
        sd[p + "attention.gater.weight"] = rnd(h, d)
        if config.is_moe(layer):
            q = p + "feed_forward."
            sd[q + "experts.w13"] = rnd(e, 2 * f, d)  # interleaved gate/up rows, as released
            sd[q + "experts.w2"] = rnd(e, d, f)
            sd[q + "router.down_proj.weight"] = rnd(rd, d, scale=0.2)
            sd[q + "router.down_proj.bias"] = rnd(rd)
            sd[q + "router.router_mlp.0.weight"] = rnd(rd, rd, scale=0.3)
            sd[q + "router.router_mlp.0.bias"] = rnd(rd)
            sd[q + "router.router_mlp.2.weight"] = rnd(rd, rd, scale=0.3)
            sd[q + "router.router_mlp.2.bias"] = rnd(rd)
            sd[q + "router.router_mlp.4.weight"] = rnd(e, rd, scale=0.3)
            sd[q + "router.rmsnorm_eda.weight"] = (1 + rnd(rd, scale=0.1)).to(dtype)
            sd[q + "router.balancing_biases"] = rnd(e, scale=0.05)
            if layer != config.moe_start_from_layer:
                sd[q + "router.router_states_scale"] = rnd(rd, scale=0.5)
        else:
            sd[p + "feed_forward.w_in.weight"] = rnd(2, f, d)
            sd[p + "feed_forward.w_out.weight"] = rnd(d, f)
    sd["out_norm.weight"] = (1 + rnd(d, scale=0.1)).to(dtype)
    sd["multi_output.weight"] = rnd(config.n_codebooks * config.audio_vocab, d, scale=0.2)
    return sd


def write(directory: Path, config: Zonos2Config, seed: int = 0, dtype: torch.dtype = torch.bfloat16,
          fmt: str = "pth") -> Path:
    """Write params.json + model.pth (or model.safetensors) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").write_text(json.dumps(config.to_dict(), indent=2))
    state = official_state_dict(config, seed=seed, dtype=dtype)
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(directory / "model.safetensors"))
    else:
        torch.save(state, directory / "model.pth")
    return directory


def tiny_config(**overrides) -> Zonos2Config:
    """The release's vocabularies and conditioning layout at tiny width: 6 layers, MoE on 3-4
    with top-2 on layer 4, 2:1 GQA."""
    params = json.loads(RELEASE_PARAMS.read_text())
    params.update({"n_layers": 6, "dim": 64, "head_dim": 16, "n_heads": None, "n_kv_heads": 2,
                   "multiple_of": 32, "max_seqlen": 512, "speaker_lda_dim": 32,
                   "moe_n_experts": 4, "moe_router_dim": 16, "special_topk_layers": {"4": 2}})
    params.update(overrides)
    return Zonos2Config.from_dict(params)


def write_tiny_dac(directory: Path, seed: int = 0) -> Path:
    """A random 44.1 kHz DAC with the real codebook layout (9 x 1024, hop 512), tiny widths,
    saved with save_pretrained: the same loading path as descript/dac_44khz."""
    from transformers import DacConfig, DacModel

    torch.manual_seed(seed)
    config = DacConfig(encoder_hidden_size=8, decoder_hidden_size=32, n_codebooks=9, codebook_size=1024,
                       codebook_dim=4, downsampling_ratios=[2, 4, 8, 8], upsampling_ratios=[8, 8, 4, 2],
                       sampling_rate=44100)
    DacModel(config).eval().save_pretrained(directory)
    return Path(directory)


def random_model(config: Zonos2Config, dtype: torch.dtype = torch.bfloat16, device: str = "cpu",
                 seed: int = 0, std: float = 0.02):
    """A model with random weights built in place in ``dtype`` (no fp32 copy, no checkpoint on
    disk): the released 8B config fits in about 15.3 GB of bf16."""
    from zonos2.model import Zonos2Model, rope_tables

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("meta"):
            model = Zonos2Model(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("rmsnorm_eda.weight"):
                param.fill_(1.0)
            elif name.endswith("attention.temp"):
                param.fill_(2.0)
            elif "embedders" in name:
                param.normal_(0.0, 1.0, generator=generator)
            else:
                param.normal_(0.0, std, generator=generator)
    model.rope_cos, model.rope_sin = rope_tables(config, device=torch.device(device))
    return model.eval()
