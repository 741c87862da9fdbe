"""Qwen3-ASR scorer: a tiny checkpoint in the real transformers format, loaded through the
user's path, scoring real audio; fail-fast behaviour without weights."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, make_config
from tiny_qwen3_asr import original_layout, write as write_tiny_asr
from ztts1_eval.core import audio, languages
from ztts1_eval.pipeline import runner
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable
from ztts1_eval.scorers.qwen3_asr import LANGUAGE_NAMES

ZTTS1_LANGUAGES = ["ar", "de", "en", "es", "fr", "hi", "id", "it", "ja", "ko", "pl", "pt", "ru", "th", "tl", "tr", "zh"]


@pytest.fixture(scope="module")
def tiny_asr(tmp_path_factory):
    return write_tiny_asr(tmp_path_factory.mktemp("qwen3-asr-tiny"))


def test_language_names_cover_ztts1():
    assert all(code in LANGUAGE_NAMES for code in ZTTS1_LANGUAGES)
    assert LANGUAGE_NAMES["tl"] == "Filipino" and LANGUAGE_NAMES["zh"] == "Chinese"
    assert all(languages.is_known(code) for code in LANGUAGE_NAMES)


def test_scores_real_audio_and_records_identity(tiny_asr, samples):
    scorer = registry.create("qwen3_asr", {"model": str(tiny_asr), "batch_size": 2, "max_new_tokens": 6})
    ident = scorer.identity()
    assert ident["dtype"] == "float32" and ident["device"] == "cpu" and ident["force_language"] is False
    assert ident["batch_size"] == 2 and ident["normalizer"] == {"name": "unicode_punct", "version": "2"}
    assert ident["prompt"]["system"] == "" and ident["decoding"]["max_new_tokens"] == 6
    assert ident["decoding"]["generation_config"]["do_sample"] is False
    assert list(ident["model_sha256"]) == ["model.safetensors"]
    scorer.load()
    clips = [audio.resample(audio.read_checked(samples / name), 16000)
             for name in ("en/ljspeech_LJ001-0004.flac", "de/fleurs_de_005.ogg", "zh/aishell_BAC009S0724W0121.wav")]
    inputs = [ScoreInput("en", "en", clips[0], text="produced the block books"),
              ScoreInput("de", "de", clips[1], text="dieses sediment war nötig"),
              ScoreInput("zh", "zh", clips[2], text="广州市房地产中介协会分析")]
    outputs = scorer.score(inputs)
    for out, item in zip(outputs, inputs):
        values = out.values
        assert isinstance(values["asr_hypothesis"], str)
        if out.status == "ok":
            assert values["wer"] == pytest.approx(values["wer_errors"] / values["wer_ref_units"])
        assert values["wer_ref_norm"] == scorer.normalizer(item.text, item.language)
    assert outputs[2].values["wer_unit"] == "char" and outputs[2].values["wer_ref_units"] == 12
    assert outputs[0].values["wer_unit"] == "word" and outputs[0].values["wer_ref_units"] == 4
    # Batches are sorted by length inside the scorer: the caller's order does not matter.
    reordered = scorer.score(list(reversed(inputs)))
    assert [o.values for o in reversed(reordered)] == [o.values for o in outputs]


def test_language_forcing_is_part_of_the_identity(tiny_asr):
    forced = registry.create("qwen3_asr", {"model": str(tiny_asr), "force_language": True})
    auto = registry.create("qwen3_asr", {"model": str(tiny_asr)})
    assert forced.identity_hash() != auto.identity_hash()
    assert auto.identity()["decoding"]["max_new_tokens"] == 1024  # qwen-asr's benchmark setting


# The prompt qwen-asr's Qwen3ASRModel.transcribe sends (its messages: system turn with the
# context, "" by default; the audio turn; the generation prompt; forcing appends
# "language <Name><asr_text>"), rendered by the checkpoint's chat template.
OFFICIAL_AUTO = ("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|>"
                 "<|im_end|>\n<|im_start|>assistant\n")


def test_prompt_is_the_official_packages(tiny_asr):
    auto = registry.create("qwen3_asr", {"model": str(tiny_asr)})
    forced = registry.create("qwen3_asr", {"model": str(tiny_asr), "force_language": True})
    hinted = registry.create("qwen3_asr", {"model": str(tiny_asr), "context": "Zyphra ZONOS"})
    for scorer in (auto, forced, hinted):
        scorer.load()
    assert auto.prompt("en") == OFFICIAL_AUTO
    assert forced.prompt("tl") == OFFICIAL_AUTO + "language Filipino<asr_text>"
    assert hinted.prompt("en") == OFFICIAL_AUTO.replace("system\n", "system\nZyphra ZONOS")
    # transformers' own request builder (>= 5.15) renders the same string.
    request = auto._processor.apply_transcription_request
    assert request([np.zeros(1600)], language=["English"], prompt="", tokenize=False)[0] == forced.prompt("en")


def test_batch_size_does_not_change_transcripts(tmp_path, samples):
    """Padding in a batch must not change what is transcribed (CPU, fp32): batch 1 vs 8."""
    names = ["en/ljspeech_LJ001-0004.flac", "de/fleurs_de_005.ogg", "zh/aishell_BAC009S0724W0121.wav",
             "en/fleurs_en_004.ogg", "ja/fleurs_ja_001.ogg", "es/fleurs_es_002.ogg", "fr/fleurs_fr_003.ogg",
             "en/librispeech_2412-153948-0000.flac"]
    names = [n for n in names if (samples / n).is_file()]
    assert len(names) >= 6
    inputs = [ScoreInput(f"i{k}", n.split("/")[0], audio.resample(audio.read_checked(samples / n), 16000), text="x")
              for k, n in enumerate(names)]
    lively = write_tiny_asr(tmp_path / "asr", weight_std=0.3)
    texts = {}
    for size in (1, 8):
        scorer = registry.create("qwen3_asr", {"model": str(lively), "batch_size": size, "max_new_tokens": 12})
        scorer.load()
        outputs = [o for start in range(0, len(inputs), size) for o in scorer.score(inputs[start:start + size])]
        texts[size] = [o.values["asr_hypothesis"] for o in outputs]
    assert texts[1] == texts[8]
    assert len(set(texts[1])) > 1  # the random model does say different things for different clips


@pytest.fixture(scope="module")
def both_layouts(tmp_path_factory):
    """One tiny checkpoint (special tokens at the release's ids, weights that make the output
    depend on the audio) in the -hf layout and in the release layout qwen-asr loads."""
    root = tmp_path_factory.mktemp("qwen3-asr-layouts")
    hf = write_tiny_asr(root / "hf", weight_std=0.3, real_token_ids=True)
    return hf, original_layout(hf, root / "release")


# Clips up to 8 s: beyond that the package's encoder attends across the whole clip under sdpa
# (its 8 s windows exist only with flash_attention_2) while transformers 5 always windows, so
# the two differ there by design (docs/fidelity.md).
PARITY_CLIPS = ["en/ljspeech_LJ001-0004.flac", "en/fleurs_en_004.ogg", "zh/aishell_BAC009S0724W0121.wav",
                "es/fleurs_es_006.ogg", "fr/fleurs_fr_005.ogg"]


@pytest.mark.parametrize("force_language", [False, True])
def test_official_package_and_native_path_transcribe_alike(both_layouts, samples, worker_python, force_language):
    """The qwen-asr package (its own prompt, audio loading, generate() and parser, transformers
    4.57.6 in the workers' environment) and our native transformers-5 path give the same text for
    the same weights. Batch 1: the package pads a batch's audio before the mel frames, so its own
    batched output can differ from its unbatched one (seen on these clips), ours does not."""
    names = [n for n in PARITY_CLIPS if (samples / n).is_file()]
    assert len(names) >= 4
    inputs = [ScoreInput(f"i{k}", n.split("/")[0], audio.resample(audio.read_checked(samples / n), 16000), text="x")
              for k, n in enumerate(names)]
    assert max(i.audio.samples.size for i in inputs) <= 8 * 16000
    hf, release = both_layouts
    results = {}
    for backend, model in (("native", hf), ("qwen_asr", release)):
        scorer = registry.create("qwen3_asr", {"model": str(model), "backend": backend, "python": worker_python,
                                               "batch_size": 1, "max_new_tokens": 12,
                                               "force_language": force_language})
        ident = scorer.identity()
        assert ident["backend"] == backend and ident["force_language"] is force_language
        scorer.load()
        try:
            results[backend] = [o for item in inputs for o in scorer.score([item])]
        finally:
            scorer.close()
    assert "qwen-asr==0.0.6" in ident["package"] and "transformers==4.57.6" in ident["package"]
    assert ident["decoding"]["generation_config"]["eos_token_id"] == [151645, 151643]
    native, package = results["native"], results["qwen_asr"]
    assert [o.values["asr_hypothesis"] for o in package] == [o.values["asr_hypothesis"] for o in native]
    assert [o.values for o in package] == [o.values for o in native]
    assert len({o.values["asr_hypothesis"] for o in native}) > 1  # not one constant string
    if force_language:
        assert [o.values["asr_language"] for o in package] == [LANGUAGE_NAMES[i.language] for i in inputs]


def test_package_backend_without_the_package_says_how_to_get_it(both_layouts):
    with pytest.raises(ScorerUnavailable, match="qwen-asr is not installed.*make worker-env"):
        registry.create("qwen3_asr", {"model": str(both_layouts[1]), "backend": "qwen_asr", "python": sys.executable})
    with pytest.raises(ValueError, match="unknown backend 'vllm'"):
        registry.create("qwen3_asr", {"model": str(both_layouts[1]), "backend": "vllm"})


def test_missing_weights_fail_fast_with_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("qwen3_asr", {"revision": "abc123"})
    assert "huggingface-cli download Qwen/Qwen3-ASR-1.7B-hf --revision abc123" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScorerUnavailable, match="has no config.json"):
        registry.create("qwen3_asr", {"model": str(tmp_path / "empty")})


def test_make_eval_scorers_paper_fails_before_synthesis(tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "TORCH_HOME": str(tmp_path / "torch"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "eval", "system=flite", "scorers=paper",
                          f"results_dir={tmp_path / 'r'}"], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 2
    # Every missing model of the stack is named in one message, each with how to fetch it.
    assert "Qwen/Qwen3-ASR-1.7B-hf" in out.stderr and "huggingface-cli download" in out.stderr
    assert "[sim] redimnet: M-vb2+vox2+cnc-ft_mix.pt not found" in out.stderr
    assert "releases/download/latest/M-vb2%2Bvox2%2Bcnc-ft_mix.pt" in out.stderr
    assert "[quality] msr_utmos: model.ckpt of sarulab-speech/MSR-UTMOS" in out.stderr
    assert "[diversity] dswed: facebook/hubert-base-ls960" in out.stderr
    assert "[prosody] ttsds2_prosody: facebook/hubert-base-ls960" in out.stderr
    assert "ttsds2_prosody: cdminix/masked_prosody_model" in out.stderr
    assert "Allosaurus model 'uni2005' is not on this machine" in out.stderr
    assert not list((tmp_path / "r").rglob("*.wav"))  # nothing was synthesized
    assert not list((tmp_path / "r").glob("demo/flite/*"))  # no run directory left behind


def test_paper_asr_runs_in_the_pipeline_with_local_weights(tiny_asr, tmp_path, shared_cache):
    summary = runner.run(make_config([
        "system=ground_truth", "scorers=paper", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody",
        "~scorers.run.diversity",
        f"scorers.run.wer.model={tiny_asr}", "scorers.run.wer.max_new_tokens=4",
        "benchmark.ids=[en-fleurs_en_004,zh-aishell_BAC009S0724W0121,de-fleurs_de_005]",
        f"results_dir={tmp_path}", f"cache_dir={shared_cache}", "progress=false"]))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert set(items["wer_status"]) <= {"ok", "failed"} and "n/a" not in set(items["wer_status"])
    assert items.loc["zh-aishell_BAC009S0724W0121", "wer.wer_unit"] == "char"
    assert summary.results.scorers["wer"].identity["model"] == str(tiny_asr)
    assert "WER/CER (%)" in (summary.run_dir / "table.md").read_text()
