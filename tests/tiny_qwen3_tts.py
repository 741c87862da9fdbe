"""Write a tiny, randomly initialised Qwen3-TTS 12 Hz Base checkpoint in the layout of the hub repo
``Qwen/Qwen3-TTS-12Hz-1.7B-Base`` (config.json, generation_config.json, model.safetensors in
bfloat16, Qwen2 tokenizer files, preprocessor_config.json, and ``speech_tokenizer/`` with its own
config and float32 weights), built with the ``qwen-tts`` package's own classes and
``save_pretrained``. Run with the workers' interpreter:

    .venv-workers/bin/python tests/tiny_qwen3_tts.py <out_dir>

Only sizes shrink; the structure (16 code groups, 12.5 Hz frames, 24 kHz audio, 1920 samples per
frame, M-RoPE, the talker-to-code-predictor projection) and the release's token-id relationships
are kept. Two departures from plain init, both so the tiny codec is not numerically silent: VQ
codebooks get random content and the codec decoder's weights are redrawn at 0.75/sqrt(fan_in).
The text tokenizer is a byte-level BPE trained here on a few sentences.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from systems.workers.serve import placeholder_modules  # noqa: E402

placeholder_modules(["torchaudio.compliance.kaldi", "sox"])
import torch  # noqa: E402

REF_TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most if not "
            "from all the arts and crafts represented in the Exhibition")
TARGET_TEXT = "Hello there, this is a tiny random voice clone test."

# ----------------------------------------------------------------------------------------------
# Sizes.  Real value (Qwen3-TTS-12Hz-1.7B-Base) -> tiny value.
# ----------------------------------------------------------------------------------------------
CODEBOOK = 64                  # 2048: entries per codebook (speech tokenizer, code predictor vocab)
CODEC_CONTROL_SLOTS = 1024     # 1024: talker vocab = codebook + 1024 control slots (3072 = 2048 + 1024)
NUM_CODE_GROUPS = 16           # 16 (kept: the decoder needs exactly encoder_valid_num_quantizers groups)
TALKER_HIDDEN = 32             # 2048
TEXT_HIDDEN = 32               # 2048
BPE_TARGET_VOCAB = 512         # 151643 regular byte-level BPE tokens
TEXT_VOCAB_PADDING = 151936 - 151643   # 293: the real text embedding has 293 rows past the BPE vocab

# Qwen2/Qwen3 special tokens, in release order, starting right after the regular vocabulary
# (<|endoftext|> = 151643 in the release).  <tts_pad>/<tts_text_bos>/<tts_text_eod> are the
# tts_pad/tts_bos/tts_eos ids of config.json (151671/151672/151673).
SPECIAL_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True),
    ("<|box_end|>", True), ("<|quad_start|>", True), ("<|quad_end|>", True),
    ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False), ("<|audio_start|>", True), ("<|audio_end|>", True),
    ("<tts_pad>", True), ("<tts_text_bos>", True), ("<tts_text_eod>", True), ("<tts_text_bos_single>", True),
    ("<|audio_pad|>", True),
]

# Codec control ids of the release, written as offsets above the codebook (2048 in the release).
CODEC_IDS = dict(codec_pad_id=100, codec_bos_id=101, codec_eos_token_id=102, codec_think_id=106,
                 codec_nothink_id=107, codec_think_bos_id=108, codec_think_eos_id=109)
LANGUAGE_IDS = dict(chinese=7, english=2, german=5, italian=22, portuguese=23, spanish=6, japanese=10,
                    korean=16, french=13, russian=21)

TOKENIZER_CORPUS = [
    REF_TEXT, TARGET_TEXT,
    "assistant", "user", "system", "assistant\n", "user\n", "system\n",
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How are you today? I am fine, thank you.",
    "Speech synthesis turns written text into spoken audio with a natural voice.",
    "A tiny random model is used for testing the loading and generation code paths.",
    "one two three four five six seven eight nine ten 0 1 2 3 4 5 6 7 8 9",
]


def build_text_tokenizer(out_dir):
    """Byte-level BPE in the Qwen2 file format (vocab.json + merges.txt + tokenizer_config.json)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=BPE_TARGET_VOCAB, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    corpus = TOKENIZER_CORPUS * 8 + [" ".join(TOKENIZER_CORPUS)]
    tok.train_from_iterator(corpus, trainer)
    tok.model.save(out_dir)  # writes vocab.json and merges.txt

    with open(os.path.join(out_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    n_regular = len(vocab)
    assert sorted(vocab.values()) == list(range(n_regular)), "BPE vocab must be contiguous"
    assert "assistant" in vocab, "'assistant' must be a single token (the model slices <|im_start|>assistant\\n as 3 ids)"

    added = {}
    for i, (content, special) in enumerate(SPECIAL_TOKENS):
        added[str(n_regular + i)] = dict(content=content, lstrip=False, normalized=False, rstrip=False,
                                         single_word=False, special=special)
    tokenizer_config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": [c for c, s in SPECIAL_TOKENS if s and c not in ("<|endoftext|>",)],
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "extra_special_tokens": {},
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "processor_class": "Qwen3TTSProcessor",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    ids = {c: n_regular + i for i, (c, _) in enumerate(SPECIAL_TOKENS)}
    ids["assistant"] = vocab["assistant"]
    return n_regular, ids


def drop_empty_model_type(config_path, *sub_keys):
    """Sub-configs that are plain dicts in the release (speaker_encoder_config, decoder_config) get
    `"model_type": ""` from save_pretrained; the release files have no such key, and
    Qwen3TTSSpeakerEncoderConfig(**d) even rejects it (its __init__ takes no **kwargs)."""
    with open(config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    for key in sub_keys:
        if cfg.get(key, {}).get("model_type", None) == "":
            del cfg[key]["model_type"]
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def randomize_codebooks(model, generator):
    """VQ codebooks are parameters/buffers that init to 0 (cluster sums); give them random content so
    the tiny codec encodes to varied codes and decodes to non-silent audio."""
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if name.endswith("embedding_sum") or name.endswith("embed_sum"):
                t.copy_(torch.randn(t.shape, generator=generator, dtype=torch.float32).to(t.dtype))
            elif name.endswith("codebook.initialized"):
                t.fill_(1)


def rescale_codec_decoder(decoder, generator, gain=0.75):
    """With the package's N(0, 0.02) init the ~20 stacked convs of the tiny codec decoder shrink the
    signal to ~1e-9 (numerically silent output).  Re-draw the decoder's conv/linear weights as
    N(0, (gain / sqrt(fan_in))**2) so decoded audio has a peak of ~0.3 instead."""
    with torch.no_grad():
        for mod in decoder.modules():
            if isinstance(mod, (torch.nn.Conv1d, torch.nn.ConvTranspose1d, torch.nn.Linear)):
                w = mod.weight
                std = gain / (w[0].numel() ** 0.5)
                w.copy_(torch.randn(w.shape, generator=generator, dtype=torch.float32) * std)


def build_speech_tokenizer(out_dir, generator):
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    decoder_config = dict(
        attention_bias=False, attention_dropout=0.0,
        latent_dim=16,                      # 1024
        codebook_dim=16,                    # 512
        codebook_size=CODEBOOK,             # 2048
        decoder_dim=32,                     # 1536 (must stay divisible by 2**len(upsample_rates))
        hidden_act="silu",
        hidden_size=16,                     # 512
        intermediate_size=32,               # 1024
        layer_scale_initial_scale=0.01,
        max_position_embeddings=8000,
        head_dim=8,                         # 64
        num_attention_heads=2,              # 16
        num_hidden_layers=1,                # 8
        num_key_value_heads=2,              # 16
        num_quantizers=NUM_CODE_GROUPS,     # 16
        num_semantic_quantizers=1,
        rms_norm_eps=1e-5, rope_theta=10000,
        semantic_codebook_size=2 * CODEBOOK,  # 4096
        sliding_window=72,
        upsample_rates=[8, 5, 4, 3], upsampling_ratios=[2, 2],   # 8*5*4*3*2*2 = 1920 samples / frame
        vector_quantization_hidden_dimension=16,   # 512
    )
    encoder_config = dict(  # transformers.MimiConfig
        _frame_rate=12.5, frame_rate=12.5,
        attention_bias=False, attention_dropout=0.0, audio_channels=1,
        codebook_dim=8,                     # 256
        codebook_size=CODEBOOK,             # 2048
        compress=2, dilation_growth_rate=2,
        head_dim=8,                         # 64
        hidden_act="gelu",
        hidden_size=16,                     # 512
        initializer_range=0.02,
        intermediate_size=32,               # 2048
        kernel_size=7, last_kernel_size=3, layer_scale_initial_scale=0.01,
        max_position_embeddings=8000, norm_eps=1e-5,
        num_attention_heads=2,              # 8
        num_filters=4,                      # 64
        num_hidden_layers=1,                # 8
        num_key_value_heads=2,              # 8
        num_quantizers=32, num_residual_layers=1, num_semantic_quantizers=1,
        pad_mode="constant", residual_kernel_size=3, rope_theta=10000.0, sampling_rate=24000,
        sliding_window=250, trim_right_ratio=1.0,
        upsample_groups=16,                 # 512 (= hidden_size)
        upsampling_ratios=[8, 6, 5, 4], use_cache=False, use_causal_conv=True, use_conv_shortcut=False,
        use_streaming=False,
        vector_quantization_hidden_dimension=8,   # 256
    )
    config = Qwen3TTSTokenizerV2Config(
        encoder_config=encoder_config, decoder_config=decoder_config,
        encoder_valid_num_quantizers=NUM_CODE_GROUPS, input_sample_rate=24000, output_sample_rate=24000,
        decode_upsample_rate=1920, encode_downsample_rate=1920,
        architectures=["Qwen3TTSTokenizerV2Model"],
    )
    model = Qwen3TTSTokenizerV2Model(config).eval()
    randomize_codebooks(model, generator)
    rescale_codec_decoder(model.decoder, generator)
    model.save_pretrained(out_dir, safe_serialization=True)   # speech tokenizer stays float32, as released
    drop_empty_model_type(os.path.join(out_dir, "config.json"), "decoder_config")

    feature_extractor = {
        "chunk_length_s": None, "feature_extractor_type": "EncodecFeatureExtractor", "feature_size": 1,
        "overlap": None, "padding_side": "right", "padding_value": 0.0, "return_attention_mask": True,
        "sampling_rate": 24000,
    }
    with open(os.path.join(out_dir, "preprocessor_config.json"), "w") as f:
        json.dump(feature_extractor, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "configuration.json"), "w") as f:  # ModelScope marker file
        json.dump({"framework": "pytorch", "task": "feature-extraction", "allow_remote": True}, f)
    return model


def build_main_model(out_dir, n_regular, ids):
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration

    code_predictor_config = dict(
        vocab_size=CODEBOOK,                # 2048
        hidden_size=16,                     # 1024 (differs from talker hidden -> small_to_mtp_projection)
        intermediate_size=48,               # 3072
        num_hidden_layers=1,                # 5
        num_attention_heads=2,              # 16
        num_key_value_heads=1,              # 8
        head_dim=8,                         # 128
        hidden_act="silu", max_position_embeddings=65536, initializer_range=0.02, rms_norm_eps=1e-6,
        use_cache=True, tie_word_embeddings=False, rope_theta=1000000, rope_scaling=None,
        attention_bias=False, use_sliding_window=False, sliding_window=None, max_window_layers=28,
        attention_dropout=0, num_code_groups=NUM_CODE_GROUPS,
    )
    talker_config = dict(
        code_predictor_config=code_predictor_config,
        vocab_size=CODEBOOK + CODEC_CONTROL_SLOTS,      # 3072
        hidden_size=TALKER_HIDDEN,                      # 2048
        intermediate_size=3 * TALKER_HIDDEN,            # 6144
        num_hidden_layers=2,                            # 28
        num_attention_heads=4,                          # 16
        num_key_value_heads=2,                          # 8
        head_dim=8,                                     # 128
        hidden_act="silu", max_position_embeddings=32768, initializer_range=0.02, rms_norm_eps=1e-6,
        use_cache=True, tie_word_embeddings=False, rope_theta=1000000,
        rope_scaling={"interleaved": True, "mrope_section": [2, 1, 1], "rope_type": "default"},  # [24, 20, 20]
        attention_bias=False, use_sliding_window=False, sliding_window=None, attention_dropout=0,
        num_code_groups=NUM_CODE_GROUPS,
        text_hidden_size=TEXT_HIDDEN,                   # 2048
        text_vocab_size=n_regular + TEXT_VOCAB_PADDING,  # 151936
        position_id_per_seconds=13,
        codec_language_id={k: CODEBOOK + v for k, v in LANGUAGE_IDS.items()},
        spk_id={}, spk_is_dialect={},
        **{k: CODEBOOK + v for k, v in CODEC_IDS.items()},
    )
    speaker_encoder_config = dict(
        mel_dim=128,                         # fixed: extract_speaker_embedding computes 128 mel bins
        enc_dim=TALKER_HIDDEN,               # 2048 (= talker hidden size: the x-vector is a codec-stream input)
        enc_channels=[16, 16, 16, 16, 48],   # [512, 512, 512, 512, 1536]
        enc_kernel_sizes=[5, 3, 3, 3, 1], enc_dilations=[1, 2, 3, 4, 1],
        enc_attention_channels=8,            # 128
        enc_res2net_scale=8,
        enc_se_channels=8,                   # 128
        sample_rate=24000,
    )
    config = Qwen3TTSConfig(
        talker_config=talker_config, speaker_encoder_config=speaker_encoder_config,
        tokenizer_type="qwen3_tts_tokenizer_12hz", tts_model_size="1b7", tts_model_type="base",
        im_start_token_id=ids["<|im_start|>"], im_end_token_id=ids["<|im_end|>"],
        tts_pad_token_id=ids["<tts_pad>"], tts_bos_token_id=ids["<tts_text_bos>"],
        tts_eos_token_id=ids["<tts_text_eod>"], assistant_token_id=ids["assistant"],
        architectures=["Qwen3TTSForConditionalGeneration"],
    )
    model = Qwen3TTSForConditionalGeneration(config).eval()
    model.to(torch.bfloat16)   # the release ships bf16 weights; the loader casts with dtype=...
    model.save_pretrained(out_dir, safe_serialization=True)
    drop_empty_model_type(os.path.join(out_dir, "config.json"), "speaker_encoder_config")
    # save_pretrained also writes a transformers GenerationConfig; the release's generation_config.json
    # holds the qwen_tts sampling defaults instead (read by Qwen3TTSForConditionalGeneration.from_pretrained).
    generate_config = {
        "do_sample": True, "repetition_penalty": 1.05, "temperature": 0.9, "top_p": 1.0, "top_k": 50,
        "subtalker_dosample": True, "subtalker_temperature": 0.9, "subtalker_top_p": 1.0,
        "subtalker_top_k": 50, "max_new_tokens": 8192,
    }
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(generate_config, f, indent=4)
        f.write("\n")
    with open(os.path.join(out_dir, "preprocessor_config.json"), "w") as f:
        json.dump({"padding_side": "left", "padding_value": 0.0, "processor_class": "Qwen3TTSProcessor",
                   "return_attention_mask": True}, f, indent=2)
        f.write("\n")
    return model


def build_checkpoint(out_dir, seed=0):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(os.path.join(out_dir, "speech_tokenizer"))
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    n_regular, ids = build_text_tokenizer(out_dir)
    build_speech_tokenizer(os.path.join(out_dir, "speech_tokenizer"), generator)
    build_main_model(out_dir, n_regular, ids)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("# tiny-random Qwen3-TTS-12Hz-1.7B-Base layout\n\nRandom weights (seed %d), for tests only; "
                "written by tiny_qwen3_tts.py.\n" % seed)
    return n_regular, ids



if __name__ == "__main__":
    torch.set_num_threads(1)
    build_checkpoint(sys.argv[1])
