"""Write a tiny, randomly initialised VoxCPM2 checkpoint in the ``openbmb/VoxCPM2`` release layout
(``config.json`` with every key of the real one and sizes shrunk, ``model.safetensors`` in
bfloat16, ``audiovae.pth`` holding ``{"state_dict": ...}``, tokenizer files), by instantiating
the ``voxcpm`` package's own classes. Run with the workers' interpreter:

    .venv-workers/bin/python tests/tiny_voxcpm2.py <out_dir>

Sizes are tiny; the audio VAE keeps the real rates (16 kHz in, 48 kHz out, 1920 samples per
latent frame) so the output format is the real one. The tokenizer is a local character-level one
with the four audio control tokens at the ids VoxCPM2 hard-codes (101-104); their real names are
not published in the files we could read.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from systems.workers.serve import placeholder_modules  # noqa: E402

placeholder_modules(["torchaudio.functional"])
import torch  # noqa: E402

AUDIO_SPECIALS = ["<|audio_start|>", "<|audio_end|>", "<|ref_audio_start|>", "<|ref_audio_end|>"]


def build_tokenizer(out_dir):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for i in range(3, 101):
        vocab[f"<reserved_{i}>"] = i
    for tok in AUDIO_SPECIALS:
        vocab[tok] = len(vocab)
    assert vocab["<|audio_start|>"] == 101 and vocab["<|ref_audio_end|>"] == 104
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    vocab["\u2581"] = len(vocab)
    for c in range(33, 127):
        vocab[chr(c)] = len(vocab)

    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>", byte_fallback=True))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    backend.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok = LlamaTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        additional_special_tokens=AUDIO_SPECIALS,
        add_bos_token=True,
        add_eos_token=False,
        legacy=False,
    )
    tok.save_pretrained(out_dir)
    return tok, len(vocab)


# ----------------------------------------------------------------------------
# 2. Config: every key of the real openbmb/VoxCPM2 config.json, sizes shrunk
# ----------------------------------------------------------------------------
# Real long/short rope factors have head_dim/2 = 64 entries; the tiny head_dim
# is 16, so we keep every 8th real value (same monotone profile).
ROPE_FACTORS_TINY = [
    0.9977997200264581, 1.2798772354275727, 2.481536379650452, 6.858830049237097,
    16.717837610115794, 26.007284207271347, 29.79624387177199, 30.80346599254902,
]


def tiny_config(vocab_size):
    return {
        "architecture": "voxcpm2",
        "lm_config": {
            "bos_token_id": 1,
            "eos_token_id": 2,
            "hidden_size": 64,  # real 2048
            "intermediate_size": 192,  # real 6144
            "max_position_embeddings": 32768,
            "num_attention_heads": 4,  # real 16
            "num_hidden_layers": 2,  # real 28
            "num_key_value_heads": 2,
            "rms_norm_eps": 1e-05,
            "rope_theta": 10000,
            "kv_channels": 16,  # real 128
            "rope_scaling": {
                "type": "longrope",
                "long_factor": list(ROPE_FACTORS_TINY),
                "short_factor": list(ROPE_FACTORS_TINY),
                "original_max_position_embeddings": 32768,
            },
            "vocab_size": vocab_size,  # real 73448
            "use_mup": False,
            "scale_emb": 12,
            "dim_model_base": 256,
            "scale_depth": 1.4,
        },
        "patch_size": 4,
        "feat_dim": 16,  # real 64 (must equal audio_vae_config.latent_dim)
        "scalar_quantization_latent_dim": 16,  # real 512
        "scalar_quantization_scale": 9,
        "residual_lm_num_layers": 1,  # real 8
        "residual_lm_no_rope": True,
        "encoder_config": {"hidden_dim": 32, "ffn_dim": 128, "num_heads": 4, "num_layers": 1, "kv_channels": 16},
        "dit_config": {
            "hidden_dim": 32,  # real 1024
            "ffn_dim": 128,  # real 4096
            "num_heads": 4,  # real 16
            "num_layers": 1,  # real 12
            "kv_channels": 16,  # real 128
            "mean_mode": False,
            "cfm_config": {"sigma_min": 1e-06, "solver": "euler", "t_scheduler": "log-norm", "inference_cfg_rate": 2.0},
        },
        "audio_vae_config": {
            "encoder_dim": 8,  # real 128
            "encoder_rates": [2, 5, 8, 8],  # kept: 16 kHz / 640 = 25 Hz latent
            "latent_dim": 16,  # real 64
            "decoder_dim": 64,  # real 2048 (>= 2**len(decoder_rates) because depthwise)
            "decoder_rates": [8, 6, 5, 2, 2, 2],  # kept: 1920 samples per latent frame at 48 kHz
            "sr_bin_boundaries": [20000, 30000, 40000],
            "sample_rate": 16000,
            "out_sample_rate": 48000,
        },
        "max_length": 8192,
        "device": "cuda",
        "dtype": "bfloat16",
    }


# ----------------------------------------------------------------------------
# 3. Write the checkpoint by instantiating the package's own classes
# ----------------------------------------------------------------------------
def write_checkpoint(out_dir):
    from safetensors.torch import save_file

    from voxcpm.model.voxcpm2 import VoxCPM2Model, VoxCPMConfig
    from voxcpm.modules.audiovae import AudioVAEConfigV2, AudioVAEV2

    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)

    tok, vocab_size = build_tokenizer(out_dir)
    cfg = tiny_config(vocab_size)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)

    torch.manual_seed(0)
    config = VoxCPMConfig.model_validate(cfg)
    audio_vae = AudioVAEV2(config=AudioVAEConfigV2.model_validate(cfg["audio_vae_config"]))
    model = VoxCPM2Model(config, tok, audio_vae, device="cpu")

    sd = model.state_dict()
    vae_sd = {k[len("audio_vae."):]: v.detach().clone().contiguous() for k, v in sd.items() if k.startswith("audio_vae.")}
    main_sd = {
        k: v.detach().to(torch.bfloat16).contiguous() for k, v in sd.items() if not k.startswith("audio_vae.")
    }
    save_file(main_sd, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    torch.save({"state_dict": vae_sd}, os.path.join(out_dir, "audiovae.pth"))
    return main_sd, vae_sd



if __name__ == "__main__":
    torch.set_num_threads(1)
    write_checkpoint(sys.argv[1])
