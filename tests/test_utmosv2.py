"""UTMOSv2 scorer: the official package in its own environment, on a tiny model it wrote in its
own formats (config module, wav2vec2 configs, fold checkpoints); seeded crops, fold averaging,
per-item failures and the messages that say what to install or fetch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, utmosv2_python):
    root = tmp_path_factory.mktemp("utmosv2")
    subprocess.run([utmosv2_python, str(HERE / "tiny_utmosv2.py"), str(root)], check=True, timeout=600)
    return root


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def _scorer(tiny, python, folds):
    return registry.create("utmosv2", {"checkpoints": [str(tiny / f"fold{k}_s42_best_model.pth") for k in folds],
                                       "config": str(tiny / "tiny_fusion.py"), "ssl_model": str(tiny / "wav2vec2"),
                                       "python": python, "device": "cpu"})


def test_scores_through_the_official_package(tiny, utmosv2_python, samples, tmp_path):
    lj = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")  # 22.05 kHz, handed over as it is
    sonar = audio.read_checked(samples / "en/fleurs_sonar_1.wav")
    empty = audio.Audio(np.zeros(0, dtype=np.float32), 16000)
    items = [ScoreInput(f"i{k}", "en", a) for k, a in enumerate([lj, empty, sonar, lj])]
    both = _scorer(tiny, utmosv2_python, (0, 1))
    ident = both.identity()
    assert "hyperion-utmosv2==1.3.1" in ident["package"] and "torch==2.9.1" in ident["package"]
    assert set(ident["checkpoints_sha256"]) == {"fold0_s42_best_model.pth", "fold1_s42_best_model.pth"}
    assert ident["folds_averaged"] == 2 and ident["seed"] == 0 and ident["predict_dataset"] == "sarulab"
    assert both.info.rate_for(lj.sample_rate) == 22050  # the package resamples (librosa) itself
    both.load()
    try:
        out = both.score(items)
        assert both._client.info["model_class"] == "SSLMultiSpecExtModelV2"
        assert both._client.info["backbone"] == "test_efficientnet"
        sf.write(tmp_path / "lj.wav", lj.samples, lj.sample_rate, subtype="FLOAT")
        folds = both._client.ask({"audio": str(tmp_path / "lj.wav")})["results"][0]["folds"]
    finally:
        both.close()
    assert [o.status for o in out] == ["ok", "failed", "ok", "ok"]
    assert "ZeroDivisionError" in out[1].reason  # the package cannot tile an empty clip; the worker goes on
    assert out[0].values["utmosv2"] == out[3].values["utmosv2"]  # crops seeded per item: order-free
    assert out[0].values["utmosv2"] != out[2].values["utmosv2"]
    assert out[0].values["utmosv2"] == pytest.approx(np.mean(folds), abs=1e-6) and folds[0] != folds[1]
    alone = _scorer(tiny, utmosv2_python, (1,))
    alone.load()
    try:
        # each fold sees the same seeded crops: fold 1 alone scores what it scored beside fold 0
        assert alone.score(items[:1])[0].values["utmosv2"] == pytest.approx(folds[1], abs=1e-6)
    finally:
        alone.close()


def test_says_what_to_install_and_fetch(tiny, utmosv2_python, tmp_path):
    with pytest.raises(ScorerUnavailable, match="not installed.*make scorer-env"):
        registry.create("utmosv2", {"python": sys.executable, "checkpoints": [str(tiny / "fold0_s42_best_model.pth")]})
    with pytest.raises(ScorerUnavailable, match="cannot run.*make scorer-env"):
        registry.create("utmosv2", {"python": str(tmp_path / "no-such-python")})
    with pytest.raises(ScorerUnavailable,
                       match="fold0_s42_best_model.pth of sarulab-speech/UTMOSv2.*huggingface-cli download"):
        registry.create("utmosv2", {"python": utmosv2_python})
    bare = tmp_path / "ssl"
    bare.mkdir()
    (bare / "config.json").write_text((tiny / "wav2vec2" / "config.json").read_text())
    with pytest.raises(ScorerUnavailable, match="lacks preprocessor_config.json"):
        registry.create("utmosv2", {"python": utmosv2_python, "ssl_model": str(bare),
                                    "checkpoints": [str(tiny / "fold0_s42_best_model.pth")]})
    broken = registry.create("utmosv2", {"python": utmosv2_python, "ssl_model": str(tiny / "wav2vec2"),
                                         "checkpoints": [str(tiny / "fold0_s42_best_model.pth")]})
    with pytest.raises(ScorerUnavailable, match="could not load"):  # official fusion_stage3 vs the tiny weights
        broken.load()


def test_a_run_names_the_quality_model_under_its_table(tiny, utmosv2_python, tmp_path, shared_cache):
    from conftest import make_config
    from ztts1_eval.pipeline import runner
    from ztts1_eval.report import build as report

    config = make_config(["system=ground_truth", "benchmark.ids=[en-ljspeech_LJ001-0004,en-fleurs_en_003]",
                          f"results_dir={tmp_path}", f"cache_dir={shared_cache}", "progress=false"])
    config["scorers"]["run"] = {"quality": {
        "type": "utmosv2", "checkpoints": [str(tiny / "fold0_s42_best_model.pth")], "device": "cpu",
        "config": str(tiny / "tiny_fusion.py"), "ssl_model": str(tiny / "wav2vec2"), "python": utmosv2_python}}
    summary = runner.run(config)
    cell = summary.results.by_language["en"].cells["quality.utmosv2"]
    assert cell.n == 2 and np.isfinite(cell.mean)
    markdown, _ = report.report(tmp_path, "demo")
    assert "UTMOSv2" in markdown
    assert "`quality`: UTMOSv2 tiny_fusion fold0_s42_best_model.pth" in markdown
    assert "hyperion-utmosv2==1.3.1" in markdown and "crops seeded (0)" in markdown
