"""The command line as users call it (subprocesses), and secret handling."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, make_config
from ztts1_eval.core import provenance
from ztts1_eval.pipeline import runner


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


def test_a_third_party_system_joins_through_an_entry_point(tmp_path):
    """An installed package (here: its dist-info and module on PYTHONPATH, as pip would leave
    them) adds a system without any edit to this repository."""
    import os

    site = tmp_path / "site"
    (site / "slow_espeak-0.1.dist-info").mkdir(parents=True)
    (site / "slow_espeak-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-espeak\nVersion: 0.1\n")
    (site / "slow_espeak-0.1.dist-info" / "entry_points.txt").write_text(
        "[ztts1_eval.systems]\nslow_espeak = slow_espeak:SlowEspeak\n")
    (site / "slow_espeak.py").write_text(
        "from systems.espeak import Espeak\n\n\nclass SlowEspeak(Espeak):\n    name = 'slow_espeak'\n\n"
        "    def __init__(self, **options):\n        super().__init__(**{**options, 'words_per_minute': 110})\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "eval", "system=espeak", "system.type=slow_espeak",
                          "system.name=slow_espeak", "benchmark.languages=[en]", "benchmark.max_items=1",
                          "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody", "~scorers.run.wer",
                          f"results_dir={tmp_path / 'r'}", "progress=false"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    [system_json] = (tmp_path / "r" / "demo" / "slow_espeak").glob("*/system.json")
    described = json.loads(system_json.read_text())
    assert described["name"] == "slow_espeak" and described["words_per_minute"] == 110
    unknown = _cli("eval", "system=espeak", "system.type=nope", f"results_dir={tmp_path / 'r2'}")
    assert unknown.returncode != 0 and "known systems:" in unknown.stderr and "slow_espeak" not in unknown.stderr


def test_a_plain_install_runs_from_another_directory(tmp_path, samples):
    """`pip install .` (not editable) into a fresh environment: the configs come with it
    (share/ztts1-eval/conf) and `eval` runs from a directory that is not the checkout. The
    dependencies are this environment's (a .pth line), so nothing is downloaded."""
    import shutil
    import sysconfig

    source = tmp_path / "src"  # a copy: building in place would leave build/ in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("ztts1_eval", "systems", "zonos2", "conf"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "."],
                             cwd=source, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (env_dir / "share" / "ztts1-eval" / "conf" / "system" / "ground_truth.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([str(python), "-m", "ztts1_eval", "eval", "system=ground_truth", "benchmark=demo",
                          "benchmark.languages=[en]", "benchmark.max_items=2", "~scorers.run.prosody", "~scorers.run.sim",
                          "progress=false"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "ZTTS1_DATA_ROOT": str(samples), "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    [results_json] = (elsewhere / "results" / "demo" / "ground_truth").glob("*/results.json")
    final = json.loads(results_json.read_text())
    assert final["counts"] == {"ok": 2} and final["aggregates"]["all"]["wer.wer"]["n"] == 2
    imported = subprocess.run([str(python), "-c", "import ztts1_eval; print(ztts1_eval.__file__)"], cwd=elsewhere,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert imported.stdout.strip().startswith(str(env_dir))  # the installed copy ran, not the checkout
