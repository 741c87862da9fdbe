"""A byte-level BPE tokenizer trained on a short corpus, with special tokens first: what the
tiny ASR checkpoints (Qwen3-ASR, Whisper) wrap in their transformers tokenizer classes."""

from __future__ import annotations


def byte_level_bpe(special: list[str], corpus: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([corpus] * 10, trainer)
    return bpe
