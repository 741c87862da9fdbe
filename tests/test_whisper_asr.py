"""Whisper WER as Seed-TTS-Eval's run_wer.py computes it, on a tiny checkpoint in the real
transformers format of openai/whisper-large-v3 and real speech."""

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch

from conftest import SAMPLES
from tiny_whisper import write
from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write(tmp_path_factory.mktemp("whisper") / "whisper-large-v3")


def _reference_transcript(model_dir, path) -> str:
    """The English branch of seed-tts-eval's run_asr(), step by step."""
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    processor = WhisperProcessor.from_pretrained(model_dir)
    model = WhisperForConditionalGeneration.from_pretrained(model_dir)
    wav, sr = sf.read(path)
    if wav.ndim > 1:
        wav = wav.mean(axis=1)  # (the script reads mono files; ours are mixed down by the pipeline)
    if sr != 16000:
        wav = scipy.signal.resample(wav, int(len(wav) * 16000 / sr))
    input_features = processor(wav, sampling_rate=16000, return_tensors="pt").input_features
    prompt = processor.get_decoder_prompt_ids(language="english", task="transcribe")
    start = model.generation_config.decoder_start_token_id
    decoder_input_ids = torch.tensor([[start] + [token for _, token in prompt]])
    predicted = model.generate(input_features, decoder_input_ids=decoder_input_ids, max_new_tokens=8)
    return processor.batch_decode(predicted, skip_special_tokens=True)[0]


def test_transcripts_follow_the_reference_script(tiny):
    scorer = registry.create("whisper_asr", {"model": str(tiny), "max_new_tokens": 8})
    path = SAMPLES / "en/ljspeech_LJ001-0001.flac"  # 22.05 kHz: the script's FFT resampling applies
    clip = audio.read_checked(path)
    assert scorer.info.rate_for(clip.sample_rate) == 22050  # handed over at its own rate
    [ours] = scorer.transcribe([(clip.samples, clip.sample_rate)])
    assert ours == _reference_transcript(str(tiny), path)
    ident = scorer.identity()
    assert ident["reproduces"].startswith("seed-tts-eval run_wer.py") and ident["language"] == "english"
    assert ident["resampler"] == "scipy_fft" and ident["normalizer"]["name"] == "seedtts_eval"
    assert ident["settings_note"] == "max_new_tokens 8" and scorer.info.languages == frozenset({"en"})


def test_batches_and_options(tiny):
    scorer = registry.create("whisper_asr", {"model": str(tiny), "max_new_tokens": 6})
    clips = [audio.read_checked(SAMPLES / name) for name in
             ("en/ljspeech_LJ001-0001.flac", "en/ljspeech_LJ001-0004.flac", "en/librispeech_2412-153948-0000.flac")]
    inputs = [ScoreInput(f"i{k}", "en", c, text="printing in the only sense") for k, c in enumerate(clips)]
    together = scorer.score(inputs)
    alone = [scorer.score([item])[0] for item in inputs]
    assert [o.values["asr_hypothesis"] for o in together] == [o.values["asr_hypothesis"] for o in alone]
    assert all(o.values["wer_ref_units"] == 5 for o in together)
    soxr = registry.create("whisper_asr", {"model": str(tiny), "resampler": "soxr", "language": None})
    assert soxr.info.rate_for(22050) == 16000
    assert "auto-detected" in soxr.identity()["settings_note"] and "soxr" in soxr.identity()["settings_note"]
    with pytest.raises(ValueError, match="resampler must be one of"):
        registry.create("whisper_asr", {"model": str(tiny), "resampler": "linear"})


def test_missing_weights_say_how_to_fetch_them(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ScorerUnavailable, match="openai/whisper-large-v3") as err:
        registry.create("whisper_asr", {})
    assert "huggingface-cli download openai/whisper-large-v3" in str(err.value)
