"""Write a tiny Qwen3-ASR checkpoint in the real transformers format (config, safetensors,
processor with feature extractor, byte-level BPE tokenizer and chat template), random weights;
and the same weights in the original release layout that the ``qwen-asr`` package loads
(``original_layout``), the inverse of transformers' ``convert_qwen3_asr_to_hf.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from tiny_tokenizer import byte_level_bpe

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>"]
# Not special in the release: the package's parser finds it in text decoded without special tokens.
ASR_TEXT = "<asr_text>"
# The release's token ids (qwen-asr's generate() hard-codes 151645 and 151643 as end tokens, so a
# checkpoint that the package should stop on needs them there).
REAL_IDS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|audio_start|>": 151669,
            "<|audio_end|>": 151670, "<|audio_pad|>": 151676, ASR_TEXT: 151704}
REAL_VOCAB = 151936
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
# The turn structure of the release template (transformers' ASR_CHAT_TEMPLATE): a system turn
# always (empty without a system message), one audio placeholder per audio item in the user turn
# (user text ignored), assistant turns, then the generation prompt.
CHAT_TEMPLATE = (
    "<|im_start|>system\n{% for m in messages if m['role'] == 'system' %}"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}{{ c['text'] }}{% endfor %}{% endif %}"
    "{% endfor %}<|im_end|>\n"
    "{% for m in messages if m['role'] != 'system' %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'audio' %}<|audio_start|><|audio_pad|><|audio_end|>{% elif m['role'] != 'user' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def write(directory: Path, seed: int = 0, weight_std: float | None = None, real_token_ids: bool = False) -> Path:
    """``weight_std``: redraw every matrix from N(0, std), so the output depends on the audio
    (at the default init the tiny model says the same token for any clip). ``real_token_ids``:
    special tokens at the release's ids in a vocabulary of the release's size (unused ids are
    plain filler tokens)."""
    from transformers import (GenerationConfig, Qwen2TokenizerFast, Qwen3ASRConfig, Qwen3ASRFeatureExtractor,
                              Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor)

    bpe = byte_level_bpe(SPECIAL, "language English the quick brown fox jumps over the lazy dog", 400)
    if real_token_ids:
        bpe = _at_real_ids(bpe)
    bpe.add_tokens([ASR_TEXT])
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=bpe, unk_token=None, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        extra_special_tokens={"audio_token": "<|audio_pad|>", "audio_bos_token": "<|audio_start|>",
                              "audio_eos_token": "<|audio_end|>"})
    processor = Qwen3ASRProcessor(feature_extractor=Qwen3ASRFeatureExtractor(), tokenizer=tokenizer,
                                  chat_template=CHAT_TEMPLATE)
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen3ASRConfig(
        audio_config=dict(num_mel_bins=128, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64,
                          d_model=32, output_dim=64, downsample_hidden_size=16),
        text_config=dict(vocab_size=REAL_VOCAB if real_token_ids else len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=32),
        audio_token_id=ids("<|audio_pad|>"), pad_token_id=ids("<|endoftext|>"), eos_token_id=[ids("<|im_end|>")])
    torch.manual_seed(seed)
    model = Qwen3ASRForConditionalGeneration(config).eval()
    if weight_std is not None:
        with torch.no_grad():
            for parameter in model.parameters():
                if parameter.dim() >= 2:
                    parameter.normal_(0.0, weight_std)
    # As the release's conversion writes it: both end tokens, greedy, 512 new tokens.
    model.generation_config = GenerationConfig(eos_token_id=[ids("<|endoftext|>"), ids("<|im_end|>")],
                                               pad_token_id=ids("<|im_end|>"), do_sample=False, max_new_tokens=512)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return Path(directory)


def _at_real_ids(trained):
    """The trained byte-level BPE re-built with every special token at its release id."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    state = json.loads(trained.to_str())["model"]
    learned = [t for t, _ in sorted(state["vocab"].items(), key=lambda kv: kv[1]) if t not in REAL_IDS]
    by_id = {i: t for t, i in REAL_IDS.items()}
    vocab, learned_left = {}, iter(learned)
    for i in range(max(REAL_IDS.values()) + 1):
        token = by_id.get(i) or next(learned_left, None) or f"<|filler_{i}|>"
        vocab[token] = i
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    # The release's Qwen2 pre-tokenizer: its split regex, then byte-level without a regex of its own
    # (transformers 4.57's fix_mistral_regex, which qwen-asr turns on, rewrites item 0).
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    bpe.decoder = decoders.ByteLevel()
    bpe.add_special_tokens(SPECIAL)  # already in the vocabulary: they keep their ids
    return bpe


# The inverse of transformers' conversion (convert_qwen3_asr_to_hf.py renames thinker.model. ->
# model.language_model., thinker.lm_head. -> lm_head., thinker. -> model., then the audio tower's
# proj1/proj2 -> multi_modal_projector.linear_1/2): -hf prefix -> release prefix, first match wins.
FROM_HF = [("model.multi_modal_projector.linear_1.", "thinker.audio_tower.proj1."),
           ("model.multi_modal_projector.linear_2.", "thinker.audio_tower.proj2."),
           ("model.language_model.", "thinker.model."), ("lm_head.", "thinker.lm_head."), ("model.", "thinker.")]


def original_key(hf_key: str) -> str:
    for hf, original in FROM_HF:
        if hf_key.startswith(hf):
            return original + hf_key[len(hf):]
    raise KeyError(f"no release name for {hf_key!r}")


def original_layout(hf_dir: Path, directory: Path) -> Path:
    """The -hf checkpoint in ``hf_dir`` written as the release (``Qwen/Qwen3-ASR-*``) lays it out:
    ``thinker_config`` with Whisper-style audio names and M-RoPE text config, ``thinker.*`` weights,
    a WhisperFeatureExtractor, the tokenizer config transformers 4.57 reads, chat_template.json."""
    from safetensors.torch import load_file, save_file

    hf_dir, directory = Path(hf_dir), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    hf = json.loads((hf_dir / "config.json").read_text())
    if hf["audio_token_id"] != REAL_IDS["<|audio_pad|>"]:
        raise ValueError("qwen-asr stops on the release's token ids: write(..., real_token_ids=True) first")
    audio, text = hf["audio_config"], hf["text_config"]
    audio_config = {k: audio[k] for k in ("num_mel_bins", "encoder_layers", "encoder_attention_heads", "encoder_ffn_dim",
                                          "d_model", "output_dim", "downsample_hidden_size", "n_window",
                                          "n_window_infer", "activation_function", "scale_embedding")}
    audio_config.update(model_type="qwen3_asr_audio_encoder", max_source_positions=1500, conv_chunksize=500)
    rotary_half = text["head_dim"] // 2
    text_config = {k: text[k] for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                        "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act",
                                        "rms_norm_eps", "max_position_embeddings")}
    text_config.update(model_type="qwen3", rope_theta=text["rope_parameters"]["rope_theta"], tie_word_embeddings=False,
                       rope_scaling={"rope_type": "default", "interleaved": True, "mrope_interleaved": True,
                                     "mrope_section": [rotary_half - 2 * (rotary_half // 3)] + [rotary_half // 3] * 2})
    config = {"architectures": ["Qwen3ASRForConditionalGeneration"], "model_type": "qwen3_asr",
              "support_languages": [], "torch_dtype": "float32",
              "thinker_config": {"model_type": "qwen3_asr_thinker", "audio_config": audio_config,
                                 "text_config": text_config, "audio_token_id": hf["audio_token_id"],
                                 "audio_start_token_id": REAL_IDS["<|audio_start|>"],
                                 "audio_end_token_id": REAL_IDS["<|audio_end|>"], "initializer_range": 0.02}}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    weights = load_file(hf_dir / "model.safetensors")
    if "lm_head.weight" not in weights:  # tied in the -hf file: the release stores the head
        weights["lm_head.weight"] = weights["model.language_model.embed_tokens.weight"]
    save_file({original_key(k): v.contiguous().clone() for k, v in weights.items()}, directory / "model.safetensors",
              metadata={"format": "pt"})
    feature = json.loads((hf_dir / "processor_config.json").read_text())["feature_extractor"]
    whisper = {k: feature[k] for k in ("chunk_length", "dither", "feature_size", "hop_length", "n_fft", "n_samples",
                                       "nb_max_frames", "padding_side", "padding_value", "return_attention_mask",
                                       "sampling_rate")}
    whisper.update(feature_extractor_type="WhisperFeatureExtractor", processor_class="Qwen3ASRProcessor")
    (directory / "preprocessor_config.json").write_text(json.dumps(whisper, indent=2))
    shutil.copy(hf_dir / "tokenizer.json", directory / "tokenizer.json")
    hf_tokenizer = json.loads((hf_dir / "tokenizer_config.json").read_text())
    (directory / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "Qwen2TokenizerFast", "processor_class": "Qwen3ASRProcessor",
        "bos_token": None, "unk_token": None, "eos_token": hf_tokenizer["eos_token"],
        "pad_token": hf_tokenizer["pad_token"], "clean_up_tokenization_spaces": False, "errors": "replace",
        "model_max_length": 131072, "split_special_tokens": False,
        "extra_special_tokens": {k: hf_tokenizer[k] for k in ("audio_token", "audio_bos_token", "audio_eos_token")},
    }, indent=2))
    (directory / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}))
    shutil.copy(hf_dir / "generation_config.json", directory / "generation_config.json")
    return directory
