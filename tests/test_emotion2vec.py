"""CV3-Eval's emotion accuracy: emotion2vec against the official FunASR package, and the
cv3_emotion benchmark end to end.

tests/data/emotion2vec_official/reference.json was written by scripts/emotion2vec_reference.py
with FunASR itself: a tiny Emotion2vec's key list, and for real clips (librosa.load at 16 kHz, as
CV3-Eval's script) the label scores FunASR's generate returned and its frame features.
"""

import csv
import json

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from conftest import REPO, make_config
from data_fixtures import write_cv3_leaf
from tiny_emotion2vec import write_model_dir
from ztts1_eval.data import cli as data_cli
from ztts1_eval.pipeline import runner
from ztts1_eval.pipeline.applicability import not_applicable
from ztts1_eval.pipeline.manifest import Item
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScorerUnavailable

REFERENCE = json.loads((REPO / "tests/data/emotion2vec_official/reference.json").read_text())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_model_dir(tmp_path_factory.mktemp("e2v") / "emotion2vec_plus_large", REFERENCE["spec"],
                           REFERENCE["seed"])


def _16k(samples, name):
    data, rate = sf.read(samples / REFERENCE["clips"][name]["file"], dtype="float32", always_2d=True)
    mono = data.mean(axis=1)  # librosa.load: channels averaged, soxr_hq to 16 kHz
    return mono if rate == 16000 else soxr.resample(mono, rate, 16000, quality="HQ")


@pytest.mark.parametrize("name", list(REFERENCE["clips"]))
def test_scores_and_features_match_funasr(name, model_dir, samples):
    official = REFERENCE["clips"][name]
    scorer = registry.create("emotion2vec", {"model": str(model_dir), "device": "cpu"})
    wav = _16k(samples, name)
    assert wav.size == official["samples_16k"]
    np.testing.assert_allclose(scorer.scores(wav), official["scores"], atol=1e-5)
    with torch.no_grad():
        feats = scorer._model.features(torch.from_numpy(wav)[None])[0].numpy()
    assert feats.shape[0] == official["frames"]
    np.testing.assert_allclose(feats[[0, 1, feats.shape[0] // 2, -1]], official["features_rows"], atol=1e-4)
    assert scorer.labels == official["labels"] and scorer.identity()["unused_checkpoint_keys"] > 0


def test_missing_model_and_items_without_a_label(tmp_path, monkeypatch, model_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ScorerUnavailable, match="huggingface-cli download emotion2vec/emotion2vec_plus_large"):
        registry.create("emotion2vec", {})
    scorer = registry.create("emotion2vec", {"model": str(model_dir)})
    description = {"needs_meta": list(scorer.info.needs_meta), "metrics": []}
    plain = Item(id="a", subset="zh", language="zh", prompt_wav="p.wav", target_text="t")
    labelled = Item(id="b", subset="emotion", language="zh", prompt_wav="p.wav", target_text="t",
                    meta={"emotion": "sad"})
    assert "has no emotion" in not_applicable(description, plain) and not_applicable(description, labelled) is None


def test_cv3_emotion_benchmark_scores_accuracy_beside_table_vii(tmp_path, model_dir, shared_cache):
    checkout = tmp_path / "CV3-Eval"
    leaf = write_cv3_leaf(checkout, "en/angry", 3, group="emotion_zeroshot")
    (leaf.parent / "prompt_wav.scp").write_text("".join(
        f"angry_{'high' if i < 3 else 'low'}_uttid_{i} data/emotion_zeroshot/en/angry/waveform/prompt_audio_{i}.wav\n"
        for i in (1, 2, 3)))
    manifest, _ = data_cli.build("cv3", [f"leaves=[{leaf}]"], checkout / "cv3_emotion.jsonl", False)
    summary = runner.run(make_config([
        "benchmark=cv3_emotion", f"benchmark.data_root={checkout}", "system=flite", "+system.published_as=ZONOS2 8B",
        "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", f"scorers.run.emotion.model={model_dir}",
        f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}", "progress=false"]))
    items = summary.results.items().set_index("id")
    assert (items["emotion_status"] == "ok").all() and set(items["emotion.emotion_ref"]) == {"angry"}
    expected = (items["emotion.emotion_hyp"] == "angry").astype(float)
    assert (items["emotion.emo_acc"] == expected).all()
    rows = list(csv.reader(open(summary.run_dir / "table.csv")))
    header = rows[0]
    published = {r[2]: r[header.index("en")] for r in rows if r[1] == "↳ published (VII_CosyVoice_3_Eval)"}
    assert published["Emo. acc."] == "37.3"  # Table VII, emotion zero-shot, en
    long = list(csv.DictReader(open(summary.run_dir / "table_long.csv")))
    [cell] = [r for r in long if r["field"] == "emotion.emo_acc" and r["column"] == "en" and r["aggregation"] == "mean"]
    assert float(cell["value"]) == pytest.approx(100 * expected.mean()) and cell["ci95_low"] != ""
