"""The command line as users call it (subprocesses), and secret handling."""

import json
import subprocess
import sys

from conftest import REPO, make_config
from ztts1_eval import provenance, runner


def _cli(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ztts1_eval", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_zonos2_resolves_and_fails_clearly(tmp_path):
    out = _cli("eval", "system=zonos2", "benchmark.max_items=1", f"results_dir={tmp_path}")
    assert out.returncode == 2
    assert "voice cloning needs system.options.speaker_encoder" in out.stderr
    out = _cli("eval", "system=zonos2", "benchmark.max_items=1", f"results_dir={tmp_path}",
               f"system.options.speaker_embeddings_dir={tmp_path}")
    assert out.returncode == 2
    assert "could not get Zyphra/ZONOS2 at revision main (unpinned!)" in out.stderr  # no weights here: says what to fetch
    assert not list(tmp_path.glob("demo/zonos2/*/items.parquet"))
    # The failed start leaves no row of "pending" cells in the report.
    out = _cli("report", "--results-dir", str(tmp_path), "--benchmark", "demo")
    assert out.returncode != 0 and "no runs" in out.stderr


def test_unknown_system_and_bad_filters_are_clear_errors(tmp_path):
    out = _cli("eval", "system=nope", f"results_dir={tmp_path}")
    assert out.returncode != 0 and "Could not find 'system/nope'" in out.stderr
    out = _cli("eval", "system=flite", "benchmark.languages=[xx]", f"results_dir={tmp_path}")
    assert out.returncode != 0 and "select no items" in out.stderr


def test_missing_data_root_is_a_clear_error(tmp_path):
    out = _cli("eval", "system=flite", f"benchmark.data_root={tmp_path / 'nowhere'}", f"results_dir={tmp_path}")
    assert out.returncode != 0 and "data root" in out.stderr and "nowhere" in out.stderr


def test_report_without_runs_says_what_to_do(tmp_path):
    out = _cli("report", "--results-dir", str(tmp_path), "--benchmark", "demo")
    assert out.returncode != 0 and "make eval BENCHMARK=demo" in out.stderr


def test_usage_without_command():
    out = _cli()
    assert out.returncode != 0 and "usage: ztts1-eval" in out.stderr


def test_eval_prints_table_and_secrets_never_reach_disk(tmp_path, shared_cache):
    secret = "sk-test-0123456789abcdef"
    out = _cli("eval", "system=flite", "benchmark.ids=[en-fleurs_en_004]", "~scorers.run.sim", "~scorers.run.quality",
               f"results_dir={tmp_path}", f"cache_dir={shared_cache}", f"+provider.api_key={secret}",
               f"+system.options_note.auth_token={secret}")
    assert out.returncode == 0, out.stderr
    assert "| Flite (slt) | WER (%) ↓ |" in out.stdout
    assert secret not in out.stdout + out.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".csv", ".jsonl", ".yaml", ".log"):
            assert secret not in path.read_text(errors="ignore"), path
    run = json.loads(next(tmp_path.glob("demo/flite/*/run.json")).read_text())
    assert run["provenance"]["config"]["provider"]["api_key"] == provenance.REDACTED


def test_redact_nested():
    cfg = {"a": {"API_KEY": "x", "token": "", "list": [{"password": "p"}], "private_key": "k", "Authorization": "b"},
           "keep": "v", "voice": "slt"}
    assert provenance.redact(cfg) == {"a": {"API_KEY": provenance.REDACTED, "token": "",
                                            "list": [{"password": provenance.REDACTED}],
                                            "private_key": provenance.REDACTED, "Authorization": provenance.REDACTED},
                                      "keep": "v", "voice": "slt"}


def test_run_id_depends_on_content_not_time(tmp_path):
    a = make_config(["system=flite", f"results_dir={tmp_path}"])
    b = make_config(["system=flite", f"results_dir={tmp_path}", "seed=7"])
    c = make_config(["system=flite", f"results_dir={tmp_path / 'other'}", "progress=false", "shard.count=4"])
    d = make_config(["system=flite", f"results_dir={tmp_path}", "+system.options.api_key=rotated"])
    e = make_config(["system=flite", f"results_dir={tmp_path}", "+system.options.api_key=rotated-again"])
    ids = [runner.compute_run_id(cfg["system"], "demo", "digest", cfg["seed"]) for cfg in (a, b, c, d, e)]
    assert ids[0] != ids[1] and ids[0] == ids[2]
    assert ids[3] == ids[4]  # a new API key does not re-synthesize everything
