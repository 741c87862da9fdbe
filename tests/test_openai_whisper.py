"""CV3-Eval's non-Chinese ASR: the openai-whisper package's transcribe on a tiny checkpoint in its
real file format, real speech, and the per-language slot CV3-Eval's run_wer.py defines."""

import json

import pytest

from conftest import REPO
from tiny_openai_whisper import write
from tiny_paraformer import write_model_dir
from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write(tmp_path_factory.mktemp("openai-whisper") / "large-v3.pt")


def test_transcribe_is_the_package_and_seeded_per_clip(checkpoint, samples):
    scorer = registry.create("openai_whisper_asr", {"model": str(checkpoint), "audio_loader": "soxr",
                                                     "device": "cpu"})
    clip = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")  # 22.05 kHz: resampled
    first = scorer.transcribe(clip.samples, clip.sample_rate, "en")
    other = audio.read_checked(samples / "en/librispeech_2412-153948-0000.flac")
    scorer.transcribe(other.samples, other.sample_rate, "en")
    assert scorer.transcribe(clip.samples, clip.sample_rate, "en") == first  # order does not matter
    import whisper

    model = whisper.load_model(str(checkpoint), device="cpu")
    import torch
    import soxr

    torch.manual_seed(0)
    expected = model.transcribe(soxr.resample(clip.samples, clip.sample_rate, 16000, quality="HQ"), language="en",
                                fp16=False)["text"].strip()
    assert first == expected and isinstance(first, str)
    (out,) = scorer.score([ScoreInput("a", "en", clip, text="produced the block books")])
    assert out.status in ("ok", "failed") and out.values["asr_hypothesis"] == first
    ident = scorer.identity()
    assert ident["package"].startswith("openai-whisper==") and ident["audio_loader"] == "soxr"
    assert ident["fp16"] is False and len(ident["model_sha256"]) == 64


def test_ffmpeg_loader_reads_as_whisper_load_audio(checkpoint, samples):
    """The default loader gives what whisper.load_audio gives for the original file: equal at
    16 kHz, within 2 LSB of 16 bit where ffmpeg resamples (or downmixes) float instead of int16."""
    import whisper

    scorer = registry.create("openai_whisper_asr", {"model": str(checkpoint), "device": "cpu"})
    assert scorer.identity()["audio_loader"] == "ffmpeg" and scorer.info.native_rates
    for name, tolerance in (("zh/aishell_BAC009S0724W0121.wav", 0.0), ("en/ljspeech_LJ001-0004.flac", 2 / 32768),
                            ("en/jfk_inaugural_1961.flac", 2 / 32768)):
        clip = audio.read_checked(samples / name)
        ours, theirs = scorer._audio(clip.samples, clip.sample_rate), whisper.load_audio(str(samples / name))
        assert ours.shape == theirs.shape and abs(ours - theirs).max() <= tolerance, name


def test_missing_model_and_ffmpeg_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("openai_whisper_asr", {"audio_loader": "soxr"})
    message = str(err.value)
    assert str(tmp_path / "models/whisper/large-v3.pt") in message
    assert "e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb/large-v3.pt" in message
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg program
    with pytest.raises(ScorerUnavailable, match="needs the ffmpeg program"):
        registry.create("openai_whisper_asr", {"model": "large-v3"})


def test_cv3_slot_sends_chinese_to_paraformer_and_the_rest_to_whisper(checkpoint, tmp_path, samples):
    paraformer = json.loads((REPO / "tests/data/paraformer_official/reference.json").read_text())
    zh_dir = write_model_dir(tmp_path / "paraformer-zh", paraformer["spec"], paraformer["seed"])
    slot = registry.create("by_language", {"normalizer": "cv3_eval", "by_language": {
        "zh": {"type": "paraformer_asr", "model": str(zh_dir), "resampler": "soxr", "device": "cpu"},
        "other": {"type": "openai_whisper_asr", "model": str(checkpoint), "audio_loader": "soxr", "device": "cpu"}}})
    assert slot.info.languages is None  # every language has a scorer
    zh = audio.read_checked(samples / "zh/aishell_BAC009S0724W0121.wav")
    en = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")
    outs = slot.score([ScoreInput("z", "zh", zh, text="广州"), ScoreInput("j", "ja", en, text="こんにちは"),
                       ScoreInput("e", "en", en, text="block books")])
    assert outs[0].values["asr_hypothesis"] == paraformer["clips"]["aishell_16k"]["text"]
    whisper = slot.scorers["other"]
    assert outs[1].values["asr_hypothesis"] == whisper.transcribe(en.samples, en.sample_rate, "ja")
    assert outs[2].values["asr_hypothesis"] == whisper.transcribe(en.samples, en.sample_rate, "en")
    identity = slot.identity()["by_language"]
    assert identity["zh"]["normalizer"] == identity["other"]["normalizer"] and "cv3" in identity["other"]["normalizer"]["name"]
    only_en = registry.create("by_language", {"only": ["en"], "by_language": {
        "zh": {"type": "paraformer_asr", "model": str(tmp_path / "nowhere")},  # not needed, not loaded
        "other": {"type": "openai_whisper_asr", "model": str(checkpoint), "audio_loader": "soxr"}}})
    assert list(only_en.scorers) == ["other"]
