"""End-to-end runs on real audio: ground truth, flite and piper on six English demo items (two
self-prompted FLEURS clips, a LibriSpeech pair, an LJ Speech pair and the two-channel JFK
recording), scored by the real lite stack. Asserts real values, then resume and report behaviour."""


import numpy as np
import pandas as pd
import pytest

from conftest import make_config
from ztts1_eval.pipeline import runner
from ztts1_eval.report import build as report, tables
from ztts1_eval.report.model import Cell

SYSTEMS = ("ground_truth", "flite", "piper")
IDS = ("en-fleurs_en_000", "en-fleurs_en_003", "en-librispeech_2412-153948-0000", "en-ljspeech_LJ001-0001",
       "en-ljspeech_LJ001-0004", "en-jfk_inaugural_1961")
ITEMS = f"benchmark.ids=[{','.join(IDS)}]"


@pytest.fixture(scope="module")
def english_runs(tmp_path_factory, shared_cache):
    results_dir = tmp_path_factory.mktemp("results")
    runs = {}
    for system in SYSTEMS:
        config = make_config([f"system={system}", ITEMS, f"results_dir={results_dir}",
                              f"cache_dir={shared_cache}", "progress=false"])
        runs[system] = runner.run(config)
    return results_dir, runs


def _items(summary) -> pd.DataFrame:
    return pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")


def _cell(summary, key: str, language: str = "en") -> Cell:
    return summary.results.by_language[language].cells[key]


def test_ground_truth_values(english_runs):
    _, runs = english_runs
    gt = runs["ground_truth"]
    assert gt.finalized and gt.results.complete
    assert gt.results.counts == {"ok": len(IDS)}
    assert _cell(gt, "wer.wer").mean < 0.5
    assert _cell(gt, "wer.wer").corpus < 0.5
    items = _items(gt)
    # LJ Speech pair: prompt is the other clip of the same speaker (GT SIM = sim(prompt, gt)).
    assert items.loc["en-ljspeech_LJ001-0001", "sim.sim"] > 70
    assert items.loc["en-ljspeech_LJ001-0004", "sim.sim"] > 70
    assert items.loc["en-librispeech_2412-153948-0000", "sim.sim"] > 70
    # A self-prompted clip would be compared with itself: "–" as in Table III, with the reason.
    assert items.loc["en-fleurs_en_000", "sim_status"] == "n/a"
    assert items.loc["en-fleurs_en_000", "sim_reason"] == tables.PROMPT_IS_TARGET
    assert items.loc["en-ljspeech_LJ001-0001", "quality.dnsmos_ovrl"] > 2.5
    assert _cell(gt, "quality.dnsmos_ovrl").mean > 2.5


@pytest.mark.parametrize("system", ["flite", "piper"])
def test_tts_values(english_runs, system):
    _, runs = english_runs
    summary = runs[system]
    assert summary.results.counts == {"ok": len(IDS)}
    assert _cell(summary, "wer.wer").mean < 0.4
    assert _cell(summary, "wer.wer").corpus < 0.4
    # A preset voice is less similar to the prompts than the recordings themselves.
    assert _cell(summary, "sim.sim").mean < _cell(runs["ground_truth"], "sim.sim").mean - 10
    items = _items(summary)
    assert (items["sample_rate"] == (16000 if system == "flite" else 22050)).all()
    assert items["wer.asr_hypothesis"].str.len().gt(0).all()


def test_items_parquet_schema(english_runs):
    _, runs = english_runs
    items = _items(runs["flite"])
    # values are prefixed by their scorer slot (results schema 2): two scorers cannot collide
    for column in ("subset", "language", "status", "failure_reason", "target_text", "wer.asr_hypothesis",
                   "wer.wer_ref_norm", "wer.wer_hyp_norm", "wer.wer_errors", "wer.wer_ref_units", "sim.sim",
                   "quality.dnsmos_ovrl",
                   "duration_s", "latency_s", "rtf", "output_sha256", "wer_status", "sim_status", "quality_status"):
        assert column in items.columns, column
    assert (items["wer_status"] == "ok").all() and "wer" not in items.columns and "sim" not in items.columns


def test_results_json_provenance(english_runs):
    _, runs = english_runs
    results = runs["piper"].results
    assert results.schema_version == 2
    prov = results.provenance
    assert prov["git"]["commit"] is None or len(prov["git"]["commit"]) == 40
    assert prov["packages"]["pocketsphinx"] and prov["packages"]["torch"]
    assert prov["host"]["cpu_count"] >= 1
    assert prov["config"]["seed"] == 1234 and prov["config"]["scorers"]["name"] == "lite"
    assert len(results.system.describe["voice_sha256"]) == 64
    assert results.scorers["wer"].identity["normalizer"] == {"name": "seedtts_eval", "version": "1"}
    assert results.scorers["wer"].batch_size == 8
    assert set(results.by_subset) == {"demo"}


def test_rerun_reuses_everything_and_gives_identical_items(english_runs, shared_cache):
    results_dir, runs = english_runs
    before = _items(runs["flite"])
    config = make_config(["system=flite", ITEMS, f"results_dir={results_dir}",
                          f"cache_dir={shared_cache}", "progress=false"])
    again = runner.run(config)
    assert again.run_dir == runs["flite"].run_dir  # run id from config content, not time
    assert again.generation == {"reused": len(IDS), "generated": 0, "failed": 0, "unsupported": 0}
    assert all(c.computed == 0 and c.reused == len(IDS) for c in again.scoring.values())
    pd.testing.assert_frame_equal(_items(again), before)


def test_changed_scorer_config_rescored_in_place(english_runs, shared_cache):
    results_dir, runs = english_runs
    before = _items(runs["flite"])
    config = make_config(["system=flite", ITEMS, f"results_dir={results_dir}",
                          f"cache_dir={shared_cache}", "progress=false", "~scorers.run.wer", "~scorers.run.sim",
                          "+scorers.run.quality.personalized=true"])
    summary = runner.run(config)
    assert summary.run_dir == runs["flite"].run_dir
    assert summary.generation["reused"] == len(IDS)
    assert summary.scoring["quality"].computed == len(IDS)  # new identity -> recomputed
    items = _items(summary)
    assert "wer" not in items.columns and "quality_status" in items.columns
    assert (items["quality.dnsmos_ovrl"] - before["quality.dnsmos_ovrl"]).abs().max() > 0.01  # personalized DNSMOS differs
    # Restore the lite stack for the other tests: everything comes back from the cache.
    restored = runner.run(make_config(["system=flite", ITEMS, f"results_dir={results_dir}",
                                       f"cache_dir={shared_cache}", "progress=false"]))
    assert all(c.computed == 0 for c in restored.scoring.values())


def test_report_regenerates_tables_without_models(english_runs):
    results_dir, runs = english_runs
    (runs["piper"].run_dir / "items.parquet").unlink()
    markdown, collected = report.report(results_dir, "demo")
    assert len(collected) == 3
    assert (runs["piper"].run_dir / "items.parquet").is_file()
    lines = markdown.splitlines()
    header = next(line for line in lines if line.startswith("| System"))
    assert header == "| System | Metric | en | all |"
    assert any(line.startswith("| Ground truth | WER (%) ↓") for line in lines)
    preset = [line for line in lines if "Spk. sim.* ↑" in line]  # flite/piper cannot clone
    assert preset and all("n/a, preset voice" in line for line in preset)
    csv = (results_dir / "demo" / "table.csv").read_text().splitlines()
    assert csv[0] == "section,system,metric,field,aggregation,en,all"
    gt_wer = next(row for row in csv if row.startswith("Reference,Ground truth,WER (%) ↓,wer.wer,mean"))
    assert float(gt_wer.split(",")[5]) == pytest.approx(100 * _cell(runs["ground_truth"], "wer.wer").mean, rel=1e-5)
    # Speed and cost in a table of their own, from the same stored items.
    speed = pd.read_csv(results_dir / "demo" / "speed.csv").set_index("system")
    flite = _items(runs["flite"])
    assert speed.loc["Flite (slt)", "n_ok"] == len(IDS)
    assert speed.loc["Flite (slt)", "latency_s_p50"] == pytest.approx(flite["latency_s"].median(), rel=1e-5)
    assert speed.loc["Flite (slt)", "rtf_p95"] == pytest.approx(np.percentile(flite["rtf"], 95), rel=1e-5)
    assert pd.isna(speed.loc["Flite (slt)", "ttfb_s_p50"])  # not an API system
    assert "| Flite (slt) | 6 |" in (results_dir / "demo" / "speed.md").read_text()
    # The blog's figure: each system's WER against the ground truth's, per language.
    versus = pd.read_csv(results_dir / "demo" / "plots" / "wer_vs_ground_truth.csv").set_index("system")
    assert set(versus.index) == {"Flite (slt)", "Piper"} and set(versus["column"]) == {"en"}
    assert versus.loc["Flite (slt)", "wer"] == pytest.approx(100 * _cell(runs["flite"], "wer.wer").mean)
    assert versus.loc["Piper", "ground_truth_wer"] == pytest.approx(100 * _cell(runs["ground_truth"], "wer.wer").mean)

