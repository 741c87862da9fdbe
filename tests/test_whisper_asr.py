"""Whisper WER as Seed-TTS-Eval's run_wer.py computes it, on a tiny checkpoint in the real
transformers format of openai/whisper-large-v3 and real speech."""

import pytest
import scipy.signal
import soundfile as sf
import torch

from conftest import REPO, SAMPLES
from tiny_whisper import write
from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write(tmp_path_factory.mktemp("whisper") / "whisper-large-v3")


def _reference_transcript(model_dir, path) -> tuple[str, torch.Tensor]:
    """The English branch of seed-tts-eval's run_asr(), step by step (its forced_decoder_ids,
    which transformers 5 no longer takes, as the decoder prompt they force); and its features."""
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
    return processor.batch_decode(predicted, skip_special_tokens=True)[0], input_features


def test_transcripts_follow_the_reference_script(tiny):
    scorer = registry.create("whisper_asr", {"model": str(tiny), "max_new_tokens": 8})
    path = SAMPLES / "en/ljspeech_LJ001-0001.flac"  # 22.05 kHz: the script's FFT resampling applies
    clip = audio.read_checked(path)
    assert scorer.info.rate_for(clip.sample_rate) == 22050  # handed over at its own rate
    [ours] = scorer.transcribe([(clip.samples, clip.sample_rate)])
    reference, features = _reference_transcript(str(tiny), path)
    assert ours == reference
    # The model's whole input: the script's FFT resampling of the 22.05 kHz file, then its processor.
    torch.testing.assert_close(scorer.features([(clip.samples, clip.sample_rate)]), features, atol=1e-5, rtol=0)
    soxr = registry.create("whisper_asr", {"model": str(tiny), "resampler": "soxr"})
    at_16k = audio.resample(clip, 16000)
    assert not torch.allclose(soxr.features([(at_16k.samples, 16000)]), features, atol=1e-5, rtol=0)
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


def test_seedtts_stack_stops_before_synthesis_then_runs_on_real_speech(tiny, tmp_path, monkeypatch, shared_cache):
    """SCORERS=seedtts: without weights, one message naming every missing part before anything is
    synthesized; with tiny Whisper and WavLM-ECAPA checkpoints, end to end."""
    import json

    from conftest import make_config
    from tiny_paraformer import write_model_dir as write_paraformer
    from tiny_unispeech_sv import write_checkpoint
    from ztts1_eval.pipeline import runner

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    base = ["scorers=seedtts", "system=ground_truth", "benchmark.ids=[en-ljspeech_LJ001-0004,zh-aishell_BAC009S0724W0121]",
            f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}", "progress=false"]
    with pytest.raises(ScorerUnavailable) as err:
        runner.run(make_config(base))
    message = str(err.value)
    assert "[wer] en: whisper_asr" in message and "huggingface-cli download openai/whisper-large-v3" in message
    assert "zh: paraformer_asr" in message and "huggingface-cli download funasr/paraformer-zh" in message
    assert "[sim] unispeech_wavlm_ecapa" in message and "gdown 1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP" in message
    assert not list((tmp_path / "r").rglob("run.json"))  # stopped before any run (or synthesis) began
    reference = json.loads((REPO / "tests/data/unispeech_sv_official/reference.json").read_text())["layouts"]
    sv = write_checkpoint(tmp_path / "sv/wavlm_large_finetune.pth", reference["large_layout"]["spec"], 11)
    (tmp_path / "sv/wavlm.json").write_text(json.dumps(reference["large_layout"]["cfg"]))
    paraformer = json.loads((REPO / "tests/data/paraformer_official/reference.json").read_text())
    zh_model = write_paraformer(tmp_path / "paraformer-zh", paraformer["spec"], paraformer["seed"])
    summary = runner.run(make_config([
        *base, f"scorers.run.wer.by_language.en.model={tiny}", "+scorers.run.wer.by_language.en.max_new_tokens=6",
        f"scorers.run.wer.by_language.zh.model={zh_model}",
        f"scorers.run.sim.checkpoint={sv}", f"scorers.run.sim.wavlm_config={tmp_path}/sv/wavlm.json"]))
    items = summary.results.items().set_index("id")
    assert items.loc["en-ljspeech_LJ001-0004", "wer_status"] in ("ok", "failed")  # random weights: any text
    assert isinstance(items.loc["en-ljspeech_LJ001-0004", "wer.asr_hypothesis"], str)
    assert items.loc["zh-aishell_BAC009S0724W0121", "wer_status"] == "ok"  # Paraformer-zh, random weights
    assert items.loc["zh-aishell_BAC009S0724W0121", "wer.asr_hypothesis"] == paraformer["clips"]["aishell_16k"]["text"]
    identity = summary.results.scorers["wer"].identity["by_language"]
    assert identity["en"]["reproduces"].startswith("seed-tts-eval") and identity["zh"]["type"] == "paraformer_asr"
    assert identity["en"]["normalizer"] == identity["zh"]["normalizer"]  # the benchmark's rule reached both
    assert -100 <= items.loc["en-ljspeech_LJ001-0004", "sim.sim"] <= 100  # the zh demo item is its own prompt: n/a
    assert items.loc["en-ljspeech_LJ001-0004", "sim_status"] == "ok"
    assert summary.results.scorers["sim"].identity["model"].endswith("wavlm_large_finetune.pth")
