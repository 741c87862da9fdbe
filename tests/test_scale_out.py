"""Scale-out: shards through a real Hydra launcher (submitit_local: local processes, the code
path of submitit_slurm), merged results equal to an unsharded run, a killed shard re-run alone,
and the refusal to merge shards of different configs or code."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import REPO, make_config
from ztts1_eval.core import layout
from ztts1_eval.pipeline import manifest, merge, runner
from ztts1_eval.report.results import TIMING_COLUMNS

# 6 items, 2 per shard: every shard has work, and the whole module costs half of the 12 English items
ARGS = ["benchmark.languages=[en]", "benchmark.max_items=6", "~scorers.run.quality", "progress=false"]


def _items(run_dir):
    return pd.read_parquet(run_dir / "items.parquet").drop(columns=list(TIMING_COLUMNS))


def _aggregates(run_dir):
    return json.loads((run_dir / "results.json").read_text())["aggregates"]


def assert_same_results(run_dir, reference):
    """Same items, statuses, texts and scores; floats equal up to rounding (a shard process may
    run BLAS with another thread count, which changes the order of float sums)."""
    pd.testing.assert_frame_equal(_items(run_dir), _items(reference), check_exact=False, rtol=1e-6, atol=1e-9)
    _approx_equal(_aggregates(run_dir), _aggregates(reference))


def _approx_equal(a, b, path="aggregates"):
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys differ"
        return all(_approx_equal(a[k], b[k], f"{path}.{k}") for k in a)
    if isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: lengths differ"
        return all(_approx_equal(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-9), f"{path}: {a} != {b}"
        return True
    assert a == b, f"{path}: {a!r} != {b!r}"
    return True


@pytest.fixture(scope="module")
def unsharded(tmp_path_factory):
    root = tmp_path_factory.mktemp("unsharded")
    summary = runner.run(make_config(["system=espeak", *ARGS, f"results_dir={root}", f"cache_dir={root / 'cache'}"]))
    return summary.run_dir


def test_make_eval_with_three_shards_equals_the_unsharded_run(unsharded, tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    out = subprocess.run(["make", "eval", "SYSTEM=espeak", "SHARDS=3", f"RESULTS_DIR={tmp_path}",
                          f"ARGS={' '.join(ARGS)} cache_dir={tmp_path / 'cache'}"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "Submitit 'local' sweep" in out.stdout + out.stderr
    [run_dir] = list((tmp_path / "demo/espeak").iterdir())
    assert run_dir.name == unsharded.name  # shard settings are not part of the run id
    assert sorted(p.name for p in layout.shard_dir(run_dir).iterdir()) == ["0-of-3.json", "1-of-3.json", "2-of-3.json"]
    assert_same_results(run_dir, unsharded)


def test_a_killed_shard_is_rerun_alone(unsharded, tmp_path):
    # The unsharded run's score cache: this test is about shards and kill -9, not about scoring
    # again what was scored (the three-shard test above scores from scratch).
    cache = unsharded.parents[2] / "cache"
    common = ["system=espeak", *ARGS, f"results_dir={tmp_path}", f"cache_dir={cache}", "shard.count=3"]
    for index in (0, 1):
        assert not runner.run(make_config([*common, f"shard.index={index}"])).finalized  # shard 2 missing
    run_dir = next((tmp_path / "demo/espeak").iterdir())
    items = manifest.load(run_dir / "manifest.jsonl", "/", check_files=False).items
    shard2 = {item.id for item in manifest.select_shard(items, 2, 3)}
    proc = subprocess.Popen([sys.executable, "-m", "ztts1_eval", "eval", *common, "shard.index=2"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not any((run_dir / "generation" / f"{i}.json").is_file() for i in shard2):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9 mid-shard
    proc.wait()
    assert not (run_dir / "results.json").is_file()
    again = runner.run(make_config([*common, "shard.index=2"]))
    assert again.finalized and again.n_shard_items == len(shard2)
    assert_same_results(run_dir, unsharded)


def test_shards_of_different_configs_or_code_are_not_merged(tmp_path, shared_cache):
    common = ["system=ground_truth", *ARGS, "~scorers.run.prosody", "~scorers.run.sim", f"results_dir={tmp_path}",
              f"cache_dir={shared_cache}", "shard.count=2"]
    runner.run(make_config([*common, "shard.index=0"]))
    with pytest.raises(merge.ShardMismatch, match=r"config.scorers.run.wer.batch_size: shard 0-of-2 has 8, "
                                                   r"shard 1-of-2 has 4"):
        runner.run(make_config([*common, "shard.index=1", "scorers.run.wer.batch_size=4"]))
    run_dir = next((tmp_path / "demo/ground_truth").iterdir())
    runner.run(make_config([*common, "shard.index=1"]))  # the same config: merges
    assert (run_dir / "results.json").is_file()
    record = json.loads((run_dir / "shards/1-of-2.json").read_text())
    record["code"]["git"]["commit"] = "0" * 40
    (run_dir / "shards/1-of-2.json").write_text(json.dumps(record))
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "merge", str(run_dir)], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "different configs or code" in out.stderr
    assert "code.git.commit" in out.stderr and "0" * 40 in out.stderr
