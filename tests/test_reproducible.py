"""Same config, same numbers: every offline system of the default `make eval`, run twice from
scratch (own results directory, own score cache), gives identical audio and identical (WER-scored)
items.parquet apart from timing columns."""

import pandas as pd

from conftest import make_config
from ztts1_eval.pipeline import runner

SYSTEMS = ("ground_truth", "flite", "espeak", "piper")
TIMING = ("latency_s", "rtf", "ttfb_s")


def _run(system: str, root) -> pd.DataFrame:
    summary = runner.run(make_config([
        f"system={system}", "benchmark.languages=[en]", "benchmark.max_items=2", "~scorers.run.prosody", "~scorers.run.sim", "~scorers.run.quality",
        f"results_dir={root / 'results'}", f"cache_dir={root / 'cache'}", "progress=false"]))
    assert summary.results.counts == {"ok": 2}
    assert summary.results.system.describe["capabilities"]["seedable"] or system == "ground_truth"
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id").sort_index()
    return items.drop(columns=[c for c in items.columns if c in TIMING or c.endswith("_time_s")])


def test_every_offline_system_reproduces_its_audio_and_scores(tmp_path):
    for system in SYSTEMS:
        first, second = _run(system, tmp_path / system / "a"), _run(system, tmp_path / system / "b")
        assert first["output_sha256"].notna().all()
        assert list(first["output_sha256"]) == list(second["output_sha256"]), system
        pd.testing.assert_frame_equal(first, second, check_exact=True)
