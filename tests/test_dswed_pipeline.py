"""K generations per item (distinct recorded seeds, resumable, generation 0 unchanged) and DS-WED
through the pipeline with a tiny HuBERT + k-means in their real formats."""

import json

import pandas as pd
import pytest

from conftest import make_config
from tiny_hubert_units import write_hubert, write_kmeans
from ztts1_eval.pipeline import runner
from ztts1_eval.report import build as report
from ztts1_eval.pipeline.generation import generation_id, item_seed, load_record
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScorerUnavailable

IDS = "benchmark.ids=[en-ljspeech_LJ001-0004,en-fleurs_en_004]"


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    root = tmp_path_factory.mktemp("dswed-models")
    return write_hubert(root / "hubert-base-ls960"), write_kmeans(root / "hubert-base-layer-8.kmeans.50.model", 50)


def _overrides(units, tmp_path, shared_cache, generations):
    hubert, kmeans = units
    return ["scorers=paper", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody",
            f"scorers.run.diversity.hubert={hubert}", f"scorers.run.diversity.kmeans={kmeans}", IDS,
            "scorers.run.diversity.trust_pickle=true",
            f"generations={generations}", f"results_dir={tmp_path}", f"cache_dir={shared_cache}", "progress=false"]


def test_generations_are_seeded_resumable_and_scored(units, tmp_path, shared_cache):
    one = runner.run(make_config(["system=piper", *_overrides(units, tmp_path, shared_cache, 1)]))
    assert one.generation["generated"] == 2
    items = pd.read_parquet(one.run_dir / "items.parquet")
    assert (items["diversity_status"] == "n/a").all()
    assert "generations >= 2" in items["diversity_reason"].iloc[0]

    three = runner.run(make_config(["system=piper", *_overrides(units, tmp_path, shared_cache, 3)]))
    assert three.run_dir == one.run_dir  # the same run, extended
    assert three.generation == {"reused": 2, "generated": 4, "failed": 0, "unsupported": 0}
    seeds = set()
    for k in range(3):
        record = load_record(three.run_dir, generation_id("en-fleurs_en_004", k))
        assert record.status == "ok" and record.generation == k
        assert record.seed == item_seed(1234, generation_id("en-fleurs_en_004", k))
        seeds.add(record.seed)
    assert len(seeds) == 3
    items = pd.read_parquet(three.run_dir / "items.parquet").set_index("id")
    assert (items["diversity_status"] == "ok").all()
    assert (items["diversity.dswed_generations"] == 3).all()
    assert (items["diversity.dswed"] > 0).all()  # Piper samples noise: its generations differ
    assert len(items) == 2  # one row per item, not per generation
    results = json.loads((three.run_dir / "results.json").read_text())
    assert results["scorers"]["diversity"]["generations"] == 3 and results["generations"] == 3
    assert "DS-WED" in (three.run_dir / "table.md").read_text()
    report.report(tmp_path, "demo")
    figure = pd.read_csv(tmp_path / "demo/plots/dswed_by_system.csv")
    assert figure["dswed"].iloc[0] == pytest.approx(results["aggregates"]["all"]["diversity.dswed"]["mean"])
    assert figure["generations"].iloc[0] == 3
    assert (tmp_path / "demo/plots/dswed_by_system.png").stat().st_size > 1000
    by_language = pd.read_csv(tmp_path / "demo/plots/dswed_by_language.csv")
    for language, value in zip(by_language["language"], by_language["value"]):
        assert value == pytest.approx(results["aggregates"]["by_language"][language]["diversity.dswed"]["mean"])
    assert len(by_language) >= 1


def test_scores_over_other_generations_are_not_shown_as_current(units, tmp_path, shared_cache):
    from ztts1_eval.core import atomic
    from ztts1_eval.report import results as results_mod

    two = runner.run(make_config(["system=espeak", *_overrides(units, tmp_path, shared_cache, 2)]))
    assert (pd.read_parquet(two.run_dir / "items.parquet")["diversity_status"] == "ok").all()
    meta_path = two.run_dir / "scores/diversity/_scorer.json"
    meta = atomic.read_json(meta_path)
    atomic.write_json(meta_path, {**meta, "generations": 3})  # as if another shard ran with K=3
    frame = pd.DataFrame([results_mod._item_row(two.run_dir, item, {"diversity": {**meta, "generations": 3}})
                          for item in results_mod.manifest_mod.load(two.run_dir / "manifest.jsonl",
                                                                    check_files=False, data_root="/").items])
    assert (frame["diversity_status"] == "pending").all()  # generation 2 does not exist yet
    three = runner.run(make_config(["system=espeak", *_overrides(units, tmp_path, shared_cache, 3)]))
    items = pd.read_parquet(three.run_dir / "items.parquet")
    assert (items["diversity_status"] == "ok").all() and (items["diversity.dswed_generations"] == 3).all()
    assert (items["diversity.dswed"] == 0.0).all()  # espeak-ng is deterministic: no diversity


def test_identical_generations_have_zero_diversity(units, tmp_path, shared_cache):
    truth = runner.run(make_config(["system=ground_truth", *_overrides(units, tmp_path, shared_cache, 2)]))
    items = pd.read_parquet(truth.run_dir / "items.parquet")
    assert (items["diversity_status"] == "ok").all() and (items["diversity.dswed"] == 0.0).all()


def test_dswed_missing_files_are_named(units, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("ZTTS1_MODELS_DIR", raising=False)
    hubert, kmeans = units
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("dswed", {"hubert": str(hubert), "trust_pickle": True})
    assert "hubert-base-layer-8.kmeans.50.model of yfyeung/kmeans-librispeech-hubert-base" in str(err.value)
    with pytest.raises(ScorerUnavailable, match="facebook/hubert-base-ls960"):
        registry.create("dswed", {"kmeans": str(kmeans), "trust_pickle": True})
    with pytest.raises(ScorerUnavailable, match="trust_pickle=true"):
        registry.create("dswed", {"hubert": str(hubert), "kmeans": str(kmeans)})
    # The file of a pinned commit's hub snapshot is unpickled without the opt-in, and says so.
    commit = "9c1e" + "0" * 36
    pinned = tmp_path / "models--yfyeung--kmeans-librispeech-hubert-base" / "snapshots" / commit / kmeans.name
    pinned.parent.mkdir(parents=True)
    pinned.write_bytes(kmeans.read_bytes())
    scorer = registry.create("dswed", {"hubert": str(hubert), "kmeans": str(pinned), "kmeans_revision": commit})
    assert scorer.identity()["kmeans"]["unpickling"] == f"pinned commit {commit}"
