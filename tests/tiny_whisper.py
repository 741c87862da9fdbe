"""Write a tiny Whisper checkpoint in the real transformers format of ``openai/whisper-large-v3``
(config, safetensors, 128-bin feature extractor, byte-level BPE tokenizer with Whisper's special
tokens, and a generation config with ``lang_to_id`` / ``task_to_id``), random weights."""

from __future__ import annotations

from pathlib import Path

from tiny_tokenizer import byte_level_bpe

LANGUAGE_TOKENS = ["<|en|>", "<|zh|>", "<|de|>", "<|es|>", "<|fr|>", "<|ja|>", "<|ko|>"]
SPECIAL = ["<|endoftext|>", "<|startoftranscript|>", *LANGUAGE_TOKENS, "<|translate|>", "<|transcribe|>",
           "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]


def _stop_after(model, eot: int, position: int) -> None:
    """Make the random decoder say <|endoftext|> from decoder position ``position`` on, as a
    trained one ends its transcript (earlier tokens still depend on the audio): a large position
    embedding dominates the residual stream there, and the tied output row of <|endoftext|>
    points along it."""
    import torch

    with torch.no_grad():
        direction = torch.randn(model.config.d_model, generator=torch.Generator().manual_seed(7))
        direction = direction / direction.norm()
        model.model.decoder.embed_positions.weight[position:] = 1e3 * direction
        norm = model.model.decoder.layer_norm
        normed = torch.nn.functional.layer_norm(1e3 * direction, (model.config.d_model,), norm.weight, norm.bias)
        model.model.decoder.embed_tokens.weight[eot] = 50.0 * normed / normed.norm()


def write(directory: Path, seed: int = 0, eos_after: int | None = 6) -> Path:
    import torch
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration,
                              WhisperProcessor, WhisperTokenizerFast)

    bpe = byte_level_bpe(SPECIAL, "the quick brown fox jumps over the lazy dog", 300)
    tokenizer = WhisperTokenizerFast(tokenizer_object=bpe, unk_token="<|endoftext|>", bos_token="<|endoftext|>",
                                     eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(vocab_size=len(tokenizer), num_mel_bins=128, d_model=16, encoder_layers=1,
                           decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=32, decoder_ffn_dim=32, max_source_positions=1500,
                           max_target_positions=64, decoder_start_token_id=sot, pad_token_id=eot, bos_token_id=eot,
                           eos_token_id=eot, begin_suppress_tokens=None, suppress_tokens=None)
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    if eos_after is not None:
        _stop_after(model, eot, eos_after)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, bos_token_id=eot, eos_token_id=eot, pad_token_id=eot, max_length=64,
        is_multilingual=True, lang_to_id={token: ids[token] for token in LANGUAGE_TOKENS},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], prev_sot_token_id=ids["<|startofprev|>"],
        begin_suppress_tokens=[eot], suppress_tokens=[])
    directory = Path(directory)
    model.save_pretrained(directory)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer).save_pretrained(directory)
    return directory
