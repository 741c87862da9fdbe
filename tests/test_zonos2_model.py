"""The clean-room ZONOS2 runner on a tiny random checkpoint written in the official format.
Each test names the reference section or fidelity trap it guards."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from zonos2 import checkpoint, random_checkpoint
from zonos2.config import release_config
from zonos2.generation import BatchDecoder, GenerationRequest, GenerationResult, generate
from zonos2.kv_cache import KVCache
from zonos2.model import apply_rope, rms_norm, rope_rotation
from zonos2.prompt import PromptOptions, build_prompt
from zonos2.sampler import SamplingParams

CFG = random_checkpoint.tiny_config()


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    return random_checkpoint.write(tmp_path_factory.mktemp("zonos2-tiny"), CFG, seed=0)


@pytest.fixture(scope="module")
def model(ckpt_dir):
    loaded, _ = checkpoint.load(ckpt_dir, dtype=torch.float32)
    return loaded


def _forward(model, prompt, speaker=None, last_only=False):
    cache = KVCache(CFG.n_layers, 1, CFG.n_kv_heads, CFG.max_seqlen, CFG.head_dim, torch.float32)
    positions = torch.arange(len(prompt))[None]
    return model(torch.as_tensor(prompt)[None], positions, cache, torch.tensor([0]),
                 speaker=None if speaker is None else speaker[None], last_only=last_only)[0]


def test_release_config_derivations():
    c = release_config()
    assert (c.heads, c.ffn_dim, c.audio_vocab, c.text_pad_id) == (16, 3072, 1026, 519)
    assert list(c.moe_layers) == list(range(3, 27)) and c.router_topk(26) == 2 and c.router_topk(25) == 1
    assert (c.condition_base, c.quality_offset("trailing_silence_s") + 3, c.background_ids, c.accurate_id) == (448, 511, (516, 517), 518)


def test_official_format_loads_with_transforms(ckpt_dir, model):
    raw = torch.load(ckpt_dir / "model.pth", weights_only=True)
    assert raw["layers.0.attention.wkv.weight"].shape == (2, CFG.n_kv_heads * CFG.head_dim, CFG.dim)
    assert raw["layers.3.feed_forward.experts.w13"].dtype == torch.bfloat16
    assert "layers.3.feed_forward.router.router_states_scale" not in raw  # first MoE layer: no EDA
    assert "layers.4.feed_forward.router.router_states_scale" in raw
    w13 = raw["layers.3.feed_forward.experts.w13"].float()
    gate_up = model.layers[3].feed_forward.experts.gate_up_proj
    f = CFG.ffn_dim
    assert torch.equal(gate_up[:, :f], w13[:, 0::2]) and torch.equal(gate_up[:, f:], w13[:, 1::2])
    wkv = raw["layers.1.attention.wkv.weight"].float()
    assert torch.equal(model.layers[1].attention.wkv.weight, torch.cat([wkv[0], wkv[1]]))
    assert model.layers[3].feed_forward.router.router_states_scale is None


def test_safetensors_and_bf16_serving(tmp_path):
    random_checkpoint.write(tmp_path, CFG, seed=1, fmt="safetensors")
    loaded, info = checkpoint.load(tmp_path)  # params.json dtype: bfloat16, never widened
    assert info["weights"].endswith("model.safetensors")
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}


def test_bad_checkpoints_fail_clearly(tmp_path, ckpt_dir, monkeypatch):
    with pytest.raises(checkpoint.CheckpointError, match="not found"):
        checkpoint.load(tmp_path / "nothing")
    (tmp_path / "params.json").write_text((ckpt_dir / "params.json").read_text())
    with pytest.raises(checkpoint.CheckpointError, match="expected params.json and one of"):
        checkpoint.load(tmp_path)
    state = torch.load(ckpt_dir / "model.pth", weights_only=True)
    state["layers.0.attention.wq.weight"] = state["layers.0.attention.wq.weight"][:, :10]
    del state["out_norm.weight"]
    torch.save(state, tmp_path / "model.pth")
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.load(tmp_path)
    assert "missing keys (1): ['out_norm.weight']" in str(err.value)
    assert "layers.0.attention.wq.weight: shape (64, 10)" in str(err.value)
    torch.save({"model": state, "extra": object()}, tmp_path / "model.pth")
    with pytest.raises(checkpoint.CheckpointError, match="weights_only=True"):
        checkpoint.load(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on this machine and in CI: no hub, fail at once
    with pytest.raises(checkpoint.CheckpointError, match="Zyphra/ZONOS2 at revision"):
        checkpoint.load("Zyphra/ZONOS2", revision="0" * 40)  # says what to fetch


def test_incremental_decode_equals_full_forward(model):
    prompt = build_prompt(CFG, PromptOptions(text="Incremental decode", has_speaker=True))
    speaker = torch.randn(CFG.speaker_embedding_dim)
    full = _forward(model, prompt, speaker)
    cache = KVCache(CFG.n_layers, 1, CFG.n_kv_heads, CFG.max_seqlen, CFG.head_dim, torch.float32)
    split = 12
    model(torch.as_tensor(prompt[:split])[None], torch.arange(split)[None], cache, torch.tensor([0]), speaker=speaker[None])
    steps = [model(torch.as_tensor(prompt[t:t + 1])[None], torch.tensor([[t]]), cache, torch.tensor([0]))[0, 0]
             for t in range(split, len(prompt))]
    torch.testing.assert_close(torch.stack(steps), full[split:], atol=2e-5, rtol=1e-5)


def test_grouped_moe_equals_naive_per_token(model):
    layer = model.layers[4].feed_forward  # top-2 layer
    assert layer.router.topk == 2
    u = torch.randn(37, CFG.dim)
    state = torch.randn(37, CFG.moe_router_dim)
    out, _ = layer(u, state)
    chosen, weights, _ = layer.router(u, state)
    experts = layer.experts
    naive = torch.zeros_like(u)
    for t in range(len(u)):
        for e, w in zip(chosen[t].tolist(), weights[t]):
            gate, up = (u[t] @ experts.gate_up_proj[e].T).split(CFG.ffn_dim)
            naive[t] += w * ((F.silu(gate) * up) @ experts.down_proj[e].T)
    torch.testing.assert_close(out, naive, atol=1e-5, rtol=1e-5)


def test_router_selects_on_biased_p_weights_by_raw_p_and_passes_prenorm_state(model):
    router = model.layers[4].feed_forward.router
    u = torch.randn(5, CFG.dim)
    prev = torch.randn(5, CFG.moe_router_dim)
    with torch.no_grad():
        saved = router.balancing_biases.clone()
        router.balancing_biases.copy_(torch.tensor([0.0, 0.0, 5.0, 4.0]))  # experts 2, 3 win on bias alone
        chosen, weights, state = router(u, prev)
        router.balancing_biases.copy_(saved)
    rho = router.down_proj(u) + prev * router.router_states_scale
    torch.testing.assert_close(state, rho)  # state before the norm
    hidden = rms_norm(rho, CFG.norm_eps, router.rmsnorm_eda.weight)
    z = router.router_mlp[4](0.5 * (x := router.router_mlp[2](0.5 * (y := router.router_mlp[0](hidden)) * (1 + torch.erf(y / math.sqrt(2))))) * (1 + torch.erf(x / math.sqrt(2))))
    p = torch.softmax(z, -1)  # exact (erf) GELU
    assert sorted(chosen[0].tolist()) == [2, 3]
    torch.testing.assert_close(weights, p.gather(-1, chosen))  # unbiased, not renormalized
    assert bool((weights.sum(-1) < 1).all())
    first = model.layers[3].feed_forward.router  # layer 3: no scale, ignores any incoming state
    torch.testing.assert_close(first(u, prev)[2], first(u, None)[2])


def test_dense_ffn_chunk0_is_up(ckpt_dir, model):
    raw = torch.load(ckpt_dir / "model.pth", weights_only=True)["layers.0.feed_forward.w_in.weight"].float()
    u = torch.randn(3, CFG.dim)
    expected = ((u @ raw[0].T) * F.silu(u @ raw[1].T)) @ model.layers[0].feed_forward.w_out.weight.T
    torch.testing.assert_close(model.layers[0].feed_forward(u, None)[0], expected, atol=1e-5, rtol=1e-5)


def test_interleaved_rope():
    x = torch.randn(1, 1, 1, 8)
    pos = 5
    inv = 10000.0 ** (-torch.arange(4, dtype=torch.float64) * 2 / 8)
    cos, sin = (pos * inv).cos().float()[None, None], (pos * inv).sin().float()[None, None]
    out = apply_rope(x, rope_rotation(cos, sin))[0, 0, 0]
    for i in range(4):
        a, b = x[0, 0, 0, 2 * i], x[0, 0, 0, 2 * i + 1]
        theta = pos * 10000.0 ** (-2 * i / 8)
        assert out[2 * i].item() == pytest.approx((a * math.cos(theta) - b * math.sin(theta)).item(), abs=1e-5)
        assert out[2 * i + 1].item() == pytest.approx((a * math.sin(theta) + b * math.cos(theta)).item(), abs=1e-5)


def test_abs_temp_on_q_and_pad_rows_count(model):
    prompt = build_prompt(CFG, PromptOptions(text="abs temp"))
    base = _forward(model, prompt)
    attention = model.layers[2].attention
    with torch.no_grad():
        attention.temp.neg_()
        flipped = _forward(model, prompt)
        attention.temp.neg_()
        torch.testing.assert_close(flipped, base)  # only |temp| matters
        pad_row = model.multi_embedder.embedders[0].weight[1025].clone()
        model.multi_embedder.embedders[0].weight[1025] += 1.0  # text rows carry audio pad 1025
        changed = _forward(model, prompt)
        model.multi_embedder.embedders[0].weight[1025] = pad_row
    assert (changed - base).abs().max() > 1e-3


def test_speaker_replaces_row_zero_before_norm(model):
    prompt = build_prompt(CFG, PromptOptions(text="speaker", has_speaker=True))
    speaker = torch.randn(CFG.speaker_embedding_dim)
    with_speaker = _forward(model, prompt, speaker)
    other = _forward(model, prompt, torch.randn(CFG.speaker_embedding_dim))
    assert (with_speaker - other).abs().max() > 1e-3
    with torch.no_grad():  # the slot row's own embedding is replaced, so it cannot matter
        text_table = model.multi_embedder.embedders[-1].weight
        saved = text_table[519].clone()
        text_table[519] += 3.0
        slot_changed = _forward(model, prompt[:3], speaker)  # rows 0-2: slot, background, accurate
        text_table[519] = saved
    torch.testing.assert_close(slot_changed[1:], _forward(model, prompt[:3], speaker)[1:])


def test_logits_are_softcapped(model):
    logits = _forward(model, build_prompt(CFG, PromptOptions(text="softcap")))
    assert logits.shape[-2:] == (9, 1026)
    assert float(logits.abs().max()) < 15.0


def _tokens(model, prompts, seeds, max_frames=24):
    requests = [GenerationRequest(p, SamplingParams(seed=s, max_frames=max_frames, ignore_eos=True)) for p, s in zip(prompts, seeds)]
    return [r.frames for r in generate(model, requests)]


def test_batch_of_different_lengths_equals_each_alone(model):
    prompts = [build_prompt(CFG, PromptOptions(text=t)) for t in ("short", "a much longer request text", "mid length")]
    batch = _tokens(model, prompts, [1, 2, 3])
    alone = [_tokens(model, [p], [s])[0] for p, s in zip(prompts, [1, 2, 3])]
    for b, a in zip(batch, alone):
        assert np.array_equal(b, a)
    assert not np.array_equal(batch[0], _tokens(model, [prompts[0]], [99])[0])  # the seed matters


def test_bad_generation_inputs(model):
    prompt = build_prompt(CFG, PromptOptions(text="x"))
    with pytest.raises(ValueError, match="speaker embedding must have shape"):
        BatchDecoder(model, [GenerationRequest(prompt, SamplingParams(), torch.randn(7))])
    with pytest.raises(ValueError, match="context limit"):
        BatchDecoder(model, [GenerationRequest(np.zeros((CFG.max_seqlen, 10), dtype=np.int64))])


class _ScriptedLogits(torch.nn.Module):
    """Stands in for the network only to force the sampled codes step by step."""

    def __init__(self, script):
        super().__init__()
        self.config = CFG
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        self.script, self.calls = script, 0

    def forward(self, frames, positions, cache, rows, speaker=None, last_only=True):
        step = self.calls - 1  # call 0 is the prefill, which yields the logits of step 0
        self.calls += 1
        logits = torch.full((frames.shape[0], 1, 9, 1026), -10.0)
        codes = self.script(step + 1)
        logits[:, :, torch.arange(9), torch.as_tensor(codes)] = 10.0
        return logits


def test_eos_aligned_by_highest_eoa_codebook_with_countdown():
    # At step 12 codebooks 2 and 6 sample EOA: the highest (6) aligns the end at frame 12 - 6.
    def script(step):
        codes = [7] * 9
        if step == 12:
            codes[2] = codes[6] = 1024
        return codes

    fake = _ScriptedLogits(script)
    prompt = build_prompt(CFG, PromptOptions(text="eos"))
    [result] = generate(fake, [GenerationRequest(prompt, SamplingParams(temperature=0, max_frames=200))])
    assert result.eos_frame == 12 - 6
    assert result.stop_reason == "eos"
    assert len(result.frames) == 12 + 10  # detection step + 9 more frames
    aligned = result.aligned_codes(8)
    assert aligned.shape == (6, 9) and aligned.max() <= 1023
    ignored = generate(_ScriptedLogits(script), [GenerationRequest(prompt, SamplingParams(temperature=0, max_frames=30, ignore_eos=True))])[0]
    assert ignored.eos_frame is None and ignored.stop_reason == "max_frames" and len(ignored.frames) == 30


def test_aligned_codes_deshear_generated_rows_and_clamp():
    frames = np.arange(20 * 9).reshape(20, 9) % 1026
    frames[3, 0] = 1025
    result = GenerationResult(frames=frames, eos_frame=None, stop_reason="max_frames")
    aligned = result.aligned_codes(8)
    assert aligned.shape == (20, 9)  # no end of audio: every frame is kept, as the server does
    assert aligned[0, 4] == frames[4, 4] and aligned[5, 8] == frames[13, 8]
    assert aligned[3, 0] == 1023  # pad clamped
    assert (aligned[12:, 8] == 1023).all() and aligned[19, 0] == frames[19, 0]  # undefined delayed codes: pad


# --- CPU decode kernels (zonos2.cpu_kernels) and the decode fast paths -------------------------


@pytest.fixture(scope="module")
def bf16_pair(ckpt_dir):
    """The same bf16 checkpoint twice: with PyTorch's kernels and packed for oneDNN."""
    from zonos2.cpu_kernels import onednn_supported, pack_for_decode

    if not onednn_supported(torch.bfloat16, "cpu"):
        pytest.skip("this CPU has no oneDNN bf16 support")
    plain, _ = checkpoint.load(ckpt_dir, dtype=torch.bfloat16)
    packed, _ = checkpoint.load(ckpt_dir, dtype=torch.bfloat16)
    assert pack_for_decode(packed, "onednn") == "onednn"
    return plain, packed


def test_onednn_packing_gives_the_same_bits(bf16_pair):
    plain, packed = bf16_pair
    assert not any(isinstance(m, torch.nn.Linear) for m in packed.modules())  # every matrix was packed
    assert packed.layers[CFG.moe_start_from_layer].feed_forward.experts.packed is not None
    prompts = [build_prompt(CFG, PromptOptions(text=t)) for t in ("short", "a much longer request text")]
    for prompt in prompts:
        cache_a, cache_b = (KVCache(CFG.n_layers, 1, CFG.n_kv_heads, CFG.max_seqlen, CFG.head_dim, torch.bfloat16)
                            for _ in range(2))
        args = (torch.as_tensor(prompt)[None], torch.arange(len(prompt))[None])
        assert torch.equal(plain(*args, cache_a, torch.tensor([0]), last_only=False),
                           packed(*args, cache_b, torch.tensor([0]), last_only=False))
    for a, b in zip(_tokens(plain, prompts, [1, 2], max_frames=16), _tokens(packed, prompts, [1, 2], max_frames=16)):
        assert np.array_equal(a, b)


def test_cpu_kernel_modes(ckpt_dir, model):
    from zonos2.cpu_kernels import pack_for_decode

    assert pack_for_decode(model, "auto") == "torch"  # fp32: nothing to pack
    assert isinstance(model.layers[0].attention.wq, torch.nn.Linear)
    with pytest.raises(ValueError, match="needs bf16 weights"):
        pack_for_decode(model, "onednn")
    with pytest.raises(ValueError, match="cpu_kernels must be one of"):
        pack_for_decode(model, "fast")


@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-5), (torch.bfloat16, 1e-2)])
def test_decode_attention_matches_sdpa(dtype, atol):
    from zonos2.model import decode_attention

    gen = torch.Generator().manual_seed(0)
    q = torch.randn(3, 1, 8, 16, generator=gen)
    keys, values = torch.randn(2, 3, 2, 20, 16, generator=gen).to(dtype)
    mask = torch.arange(20)[None, None, :] < torch.tensor([20, 7, 13])[:, None, None]  # rows of other lengths
    expected = F.scaled_dot_product_attention(q.to(dtype).transpose(1, 2), keys, values, attn_mask=mask[:, None],
                                              enable_gqa=True).transpose(1, 2)
    hidden = torch.zeros(mask.shape).masked_fill_(~mask, float("-inf")).repeat_interleave(2, dim=0)
    torch.testing.assert_close(decode_attention(q, keys, values, hidden), expected.float(), atol=atol, rtol=0)


def test_cache_reads_scattered_rows_like_consecutive_ones():
    cache = KVCache(1, 4, 1, 8, 2, torch.float32)
    for rows in ([0, 1, 2, 3], [3, 1]):
        positions = torch.tensor([[5]] * len(rows))
        cache.bind(torch.tensor(rows), positions)
        k = torch.arange(len(rows) * 2, dtype=torch.float32).view(len(rows), 1, 1, 2) + 10 * rows[0]
        keys, values, mask = cache.update(0, k, -k)
        assert keys.shape == (len(rows), 1, 6, 2) and mask.shape == (len(rows), 1, 6)
        assert torch.equal(keys[:, 0, 5], k[:, 0, 0]) and torch.equal(cache.k[0][rows, 0, 5], k[:, 0, 0])
    assert isinstance(cache._read, torch.Tensor)  # [3, 1] is gathered; [0..3] was a view
