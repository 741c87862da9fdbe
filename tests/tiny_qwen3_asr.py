"""Write a tiny Qwen3-ASR checkpoint in the real transformers format (config, safetensors,
processor with feature extractor, byte-level BPE tokenizer and chat template), random weights."""

from __future__ import annotations

from pathlib import Path

import torch

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>"]
# Not special in the release: the package's parser finds it in text decoded without special tokens.
ASR_TEXT = "<asr_text>"
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


def write(directory: Path, seed: int = 0, weight_std: float | None = None) -> Path:
    """``weight_std``: redraw every matrix from N(0, std), so the output depends on the audio
    (at the default init the tiny model says the same token for any clip)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (GenerationConfig, Qwen2TokenizerFast, Qwen3ASRConfig, Qwen3ASRFeatureExtractor,
                              Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["language English the quick brown fox jumps over the lazy dog"] * 10, trainer)
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
        text_config=dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
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
