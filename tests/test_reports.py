"""Reports that settle arguments: bootstrap intervals, paired comparisons, gates, the noise floor,
published rows, deterministic `make report` artifacts and the listening page in a real browser."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, make_config
from data_fixtures import write_fleurs_r
from ztts1_eval.core import stats
from ztts1_eval.pipeline import merge, runner
from ztts1_eval.report import compare, build as report, results
from ztts1_eval.data import cli as data_cli
from ztts1_eval.report.published import csv_path

FAST = ["scorers=lite", "~scorers.run.quality", "benchmark.languages=[en]", "progress=false"]


def test_bootstrap_interval_matches_the_closed_form():
    rng = np.random.default_rng(3)
    x = rng.normal(10.0, 3.0, 2000)
    low, high = stats.bootstrap_ci(x)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert low == pytest.approx(x.mean() - half, abs=0.03) and high == pytest.approx(x.mean() + half, abs=0.03)
    p = (rng.random(1500) < 0.3).astype(float)
    low, high = stats.bootstrap_ci(p)
    half = 1.96 * np.sqrt(p.mean() * (1 - p.mean()) / p.size)
    assert (high - low) / 2 == pytest.approx(half, rel=0.08)
    assert stats.bootstrap_ci([2.0] * 50) == (2.0, 2.0) and stats.bootstrap_ci([1.0]) is None
    assert stats.bootstrap_ci(x) == stats.bootstrap_ci(x)  # seeded
    # ratio of sums (corpus error rate): errors / words
    errors, words = rng.integers(0, 5, 400).astype(float), rng.integers(5, 15, 400).astype(float)
    low, high = stats.bootstrap_ci(errors, words)
    assert low < errors.sum() / words.sum() < high


def test_paired_difference_verdicts():
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 2.0, 300)
    worse = stats.paired_difference(a, a + 0.5 + rng.normal(0, 0.2, 300), higher_is_better=False)
    assert worse.verdict == "worse" and worse.ci[0] > 0
    assert stats.paired_difference(a, a - 0.5, higher_is_better=False).verdict == "better"
    assert stats.paired_difference(a, a.copy(), higher_is_better=True).verdict == "no detectable change"
    assert stats.paired_difference(a, a + 0.5, higher_is_better=False, margin=1.0).verdict == "no detectable change"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_cache):
    """flite with two seeds (identical audio: a deterministic system), espeak, ground truth.
    The session's score cache: scores of audio another test already scored are reused, as in
    any real run."""
    root = tmp_path_factory.mktemp("report-runs")
    cache = shared_cache
    made = {}
    for name, overrides in (("truth", ["system=ground_truth"]), ("flite1", ["system=flite", "seed=1"]),
                            ("flite2", ["system=flite", "seed=2"]), ("espeak", ["system=espeak"])):
        made[name] = runner.run(make_config([*overrides, *FAST, f"results_dir={root / 'results'}",
                                             f"cache_dir={cache}"])).run_dir
    return root, made


def _plant_wer_regression(run_dir: Path, target: Path, amount: float) -> Path:
    shutil.copytree(run_dir, target)
    for record in (target / "scores/wer").glob("*.json"):
        if record.name.startswith("_"):
            continue
        data = json.loads(record.read_text())
        if data["status"] == "ok":
            data["values"]["wer"] += amount
            record.write_text(json.dumps(data))
    results.finalize(target)  # compare reads what finalize wrote
    return target


def test_compare_detects_a_planted_regression_and_no_change_between_seeds(runs, tmp_path):
    _, made = runs
    same = compare.compare(made["flite1"], made["flite2"])
    assert set(same["verdict"]) == {"no detectable change"} and (same["delta"] == 0).all()
    planted = _plant_wer_regression(made["flite1"], tmp_path / "planted", 0.2)
    frame = compare.compare(made["flite1"], planted).set_index(["metric", "column"])
    assert frame.loc[("wer.wer", "all"), "verdict"] == "worse"
    assert frame.loc[("wer.wer", "all"), "delta"] == pytest.approx(20.0)  # table units: WER points
    assert frame.loc[("sim.sim", "all"), "verdict"] == "no detectable change"


def test_gate_and_noise_floor_exit_codes(runs, tmp_path):
    _, made = runs
    planted = _plant_wer_regression(made["flite1"], tmp_path / "planted", 0.2)
    floor = tmp_path / "floor.json"
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "noise-floor", str(made["flite1"]), str(made["flite2"]),
                          "--out", str(floor)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    measured = json.loads(floor.read_text())
    assert measured["metrics"]["wer.wer"]["all"]["std"] == 0.0 and measured["seeds"] == [1, 2]
    config = tmp_path / "gates.yaml"
    config.write_text(f"noise_floor: {floor}\ngates:\n  - metric: wer.wer\n    max_regression: 5\n"
                      "  - metric: sim.sim\n    max_regression: noise_floor\n")

    def gate(candidate):
        return subprocess.run([sys.executable, "-m", "ztts1_eval", "gate", str(made["flite1"]), str(candidate),
                               "--config", str(config)], cwd=REPO, capture_output=True, text=True, timeout=300)

    written = {p: p.stat().st_mtime_ns for p in made["flite1"].glob("*.*")}
    passed = gate(made["flite2"])
    assert {p: p.stat().st_mtime_ns for p in made["flite1"].glob("*.*")} == written  # gates only read runs
    assert passed.returncode == 0 and "pass: failure rate 0.0 % -> 0.0 %" in passed.stdout
    failed = gate(planted)
    assert failed.returncode == 1 and "FAIL" in failed.stdout and "wer.wer" in failed.stdout
    # A candidate that fails its worst items looks *better* on the items it still scores: the
    # failure-rate line (always there) must reject it.
    crashing = shutil.copytree(made["flite1"], tmp_path / "crashing")
    items = pd.read_parquet(crashing / "items.parquet").sort_values(["wer.wer", "id"], ascending=[False, True])
    for item_id in items["id"][:4]:
        record_path = crashing / "generation" / f"{item_id}.json"
        record = json.loads(record_path.read_text())
        record.update(status="failed", error="TimeoutError: no audio within 600 s", sha256=None, wav=None)
        record_path.write_text(json.dumps(record))
    merge.merge(crashing)  # finalize, and the run's own table
    shown = compare.compare(made["flite1"], crashing).set_index(["metric", "column"])
    assert shown.loc[("wer.wer", "all"), "n"] == len(items) - 4  # paired over what both scored
    crash = gate(crashing)
    assert crash.returncode == 1, crash.stdout
    assert "FAIL: failure rate rose from 0.0 % to 33.3 % (margin 0 points)" in crash.stdout
    table = (crashing / "table.md").read_text()
    assert "| Failed % ↓ | 33.3 (4/12) | 33.3 (4/12) |" in table
    # Scored at worst (the gate's default): the 4 lost items count at WER 100 % in the pairs.
    lost = 100.0 * items["wer.wer"].to_numpy()[:4]
    worst = compare.compare(made["flite1"], crashing, failed_as_worst=True).set_index(["metric", "column"])
    assert worst.loc[("wer.wer", "all"), "n"] == len(items)
    assert worst.loc[("wer.wer", "all"), "delta"] == pytest.approx(float((100.0 - lost).sum()) / len(items))
    assert "failed items at 100" in crash.stdout and "failed items at 0" in crash.stdout  # WER, similarity
    # ... and in tables when the run asks for it: both means, labelled.
    run_json = json.loads((crashing / "run.json").read_text())
    (crashing / "run.json").write_text(json.dumps({**run_json, "failed_as_worst": True}))
    final = merge.merge(crashing)
    cell = final.overall.cells["wer.wer"]
    assert cell.n_worst == 4 and cell.worst == 1.0
    scored = 100.0 * items["wer.wer"].to_numpy()[4:]
    assert 100.0 * cell.mean_all == pytest.approx((scored.sum() + 400.0) / len(items))
    table = (crashing / "table.md").read_text()
    assert "WER (%) ↓ (scored) |" in table and f"WER (%) ↓ (all, failed = 100) | {100.0 * cell.mean_all:.2f}" in table
    config.write_text("gates:\n  - metric: wer.wer\n    max_regression: noise_floor\n")
    broken = gate(planted)
    assert broken.returncode == 2 and "needs noise_floor" in broken.stderr


def test_report_finalizes_again_only_runs_whose_records_changed(runs, tmp_path):
    from ztts1_eval.core import atomic
    from ztts1_eval.core.errors import ConfigError

    _, made = runs
    copy = shutil.copytree(made["flite1"], tmp_path / "r" / "demo" / "flite" / made["flite1"].name)
    assert results.is_current(copy)
    written = (copy / "results.json").stat().st_mtime_ns
    report.report(tmp_path / "r", "demo")
    assert (copy / "results.json").stat().st_mtime_ns == written  # read, not rewritten
    record = next(p for p in sorted((copy / "scores" / "wer").glob("*.json")) if not p.name.startswith("_"))
    data = json.loads(record.read_text())
    atomic.write_json(record, {**data, "values": {**data["values"], "wer": data["values"]["wer"] + 1.0}})
    assert not results.is_current(copy)
    _, [final] = report.report(tmp_path / "r", "demo")
    assert final.overall.cells["wer.wer"].mean > json.loads(
        (made["flite1"] / "results.json").read_text())["aggregates"]["all"]["wer.wer"]["mean"]
    assert results.is_current(copy)
    # A run finalized by an older version (results schema 1, flat value columns): compare asks for
    # a migration, make report does it.
    atomic.write_json(copy / "results.json", {**json.loads((copy / "results.json").read_text()), "schema_version": 1})
    with pytest.raises(ConfigError, match="older version .*ztts1-eval finalize"):
        compare.load_run(copy)
    assert not results.is_current(copy)
    _, [migrated] = report.report(tmp_path / "r", "demo")
    assert migrated.schema_version == 2 and "wer.wer" in pd.read_parquet(copy / "items.parquet").columns


def test_report_writes_every_artifact_deterministically(runs):
    root, made = runs
    results_dir = root / "results"
    report.report(results_dir, "demo")
    out = results_dir / "demo"
    names = ["table.md", "table.csv", "table.tex", "table_long.csv", "listen/index.html"]
    names += [str(p.relative_to(out)) for p in sorted((out / "plots").glob("*.csv"))]
    names += [str(p.relative_to(out)) for p in sorted((out / "compare").glob("*"))]
    assert {"plots/bars_wer_wer.csv", "plots/summary_radar.csv", "plots/ecdf_sim_sim.csv"} <= set(names)
    assert (out / "plots/bars_wer_wer.svg").read_text().lstrip().startswith("<?xml")
    assert len(list((out / "compare").glob("*.md"))) == 3  # espeak and flite (two runs): every pair
    first = {name: (out / name).read_bytes() for name in names}
    report.report(results_dir, "demo")
    assert {name: (out / name).read_bytes() for name in names} == first
    table = (out / "table.md").read_text()
    assert "±" in table and "**" in table  # intervals and the best value per column
    assert "\\toprule" in (out / "table.tex").read_text() and "\\textbf{" in (out / "table.tex").read_text()
    long = list(csv.DictReader(open(out / "table_long.csv")))
    wer = [r for r in long if r["field"] == "wer.wer" and r["column"] == "en" and r["aggregation"] == "mean"]
    assert all(float(r["ci95_low"]) <= float(r["value"]) <= float(r["ci95_high"]) and int(r["n"]) == 12 for r in wer)


def test_published_rows_are_the_csv_exactly(tmp_path, shared_cache):
    fleurs = write_fleurs_r(tmp_path / "fleurs-r", {"en_us": 6, "de_de": 6})
    data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'data'}", f"source={fleurs}",
                                   "locales={en_us: en, de_de: de}", "per_language=2"], None, False)
    summary = runner.run(make_config(["benchmark=ztts1_clean", f"benchmark.data_root={tmp_path / 'data'}",
                                      "scorers=lite", "~scorers.run.quality", "~scorers.run.prosody",
                                      "system=ground_truth", f"results_dir={tmp_path / 'r'}",
                                      f"cache_dir={shared_cache}", "progress=false"]))
    published = {(r["metric"], r["language"]): r["value"] for r in csv.DictReader(open(csv_path()))
                 if r["table"] == "III_clean" and r["system"] == "Ground truth"}
    rows = list(csv.reader(open(summary.run_dir / "table.csv")))
    header = rows[0]
    paper = [r for r in rows if r[1] == "↳ published (III_clean)"]
    assert [r[2] for r in paper] == ["WER"]  # lite has no UTMOS; ground truth has no Spk. sim. in Table III
    for column in ("en", "de"):
        assert paper[0][header.index(column)] == published[("WER", column)]
    vs = (summary.run_dir / "table_vs_paper.md").read_text()
    assert "(other scorer)" in vs  # pocketsphinx is not the paper's Qwen3-ASR
    assert "Ground truth" in (summary.run_dir / "table.md").read_text().split("↳ published")[0]


def _published_row(benchmark: str, data_root: Path, manifest: Path, system: str, table: str, tmp_path: Path,
                   cache: Path) -> tuple[list[str], list[str], object]:
    """Run ``system`` (published as ZONOS2 8B) on a built manifest, WER only; its table.csv header
    and the published row of ``table``, and the run's results."""
    summary = runner.run(make_config([
        f"benchmark={benchmark}", f"benchmark.data_root={data_root}", f"benchmark.manifest={manifest}",
        "scorers=lite", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody", f"system={system}",
        "+system.published_as=ZONOS2 8B", f"results_dir={tmp_path / 'r'}", f"cache_dir={cache}", "progress=false"]))
    rows = list(csv.reader(open(summary.run_dir / "table.csv")))
    [paper] = [r for r in rows if r[1] == f"↳ published ({table})"]
    return rows[0], paper, summary.results


def test_table_vii_rows_sit_under_our_columns(tmp_path, shared_cache):
    """Seed-TTS-Eval: the report's Test-EN / Test-ZH / Test-ZH-Hard columns are our en / zh /
    hard_zh (zh/hardcase.lst imports as subset hard_zh)."""
    from data_fixtures import write_seed_tts

    lst = write_seed_tts(tmp_path / "seedtts")
    path, _ = data_cli.build("seedtts", [f"list={lst}", "language=en"], None, False)
    header, paper, results = _published_row("seedtts", lst.parent, path, "ground_truth", "VII_Seed-TTS-Eval",
                                            tmp_path, shared_cache)
    assert paper[2] == "WER" and paper[header.index("en")] == "2.05"  # Table VII, ZONOS2 8B, Test-EN
    assert results.benchmark["published_columns"]["hard_zh"] == "Test-ZH-Hard"
    hard = lst.parent.parent / "zh" / "hardcase.lst"
    hard.parent.mkdir()
    hard.write_text(lst.read_text().replace("prompt-wavs/", "../en/prompt-wavs/").replace("wavs/u2", "../en/wavs/u2"))
    hard_path, _ = data_cli.build("seedtts", [f"list={hard}", "language=zh", f"data_root={lst.parent.parent}"],
                                  None, False)
    assert {json.loads(line).get("subset") for line in hard_path.read_text().splitlines()[1:]} == {"hard_zh"}
    # CV3-Eval: Table VII's zero-shot section, not its emotion section's "en" (4.48, not 4.71).
    from data_fixtures import write_cv3_leaf

    leaf = write_cv3_leaf(tmp_path / "CV3-Eval", "en", 1)
    cv3, _ = data_cli.build("cv3", [f"leaves=[{leaf}]"], None, False)
    header, paper, _ = _published_row("cv3", tmp_path / "CV3-Eval", cv3, "flite", "VII_CosyVoice_3_Eval",
                                      tmp_path, shared_cache)
    assert paper[2] == "WER" and paper[header.index("en")] == "4.48"


def test_listening_page_in_headless_chromium(runs, tmp_path):
    root, made = runs
    report.report(root / "results", "demo")
    page = root / "results/demo/listen/index.html"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the listening-page test needs Debian's chromium (make setup installs it)"

    def dump(query: str) -> str:
        out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}",
                              "--virtual-time-budget=15000", "--dump-dom", page.as_uri() + query],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    everything = dump("")
    body = everything.split("<body", 1)[1].split(">", 1)[0]
    assert 'data-ready="1"' in body and 'data-items-shown="12"' in body
    loaded = int(body.split('data-audio-loaded="')[1].split('"')[0])
    assert loaded == 12 * 6  # prompt, ground truth and four system outputs per item
    assert "data-audio-failed" not in body
    # Sorted by flite's WER, worst first: the first card is the item with the highest WER.
    import pandas as pd

    items = pd.read_parquet(made["flite1"] / "items.parquet")
    worst = items.sort_values(["wer.wer", "id"], ascending=[False, True]).iloc[0]["id"]
    label = json.loads((made["flite1"] / "results.json").read_text())["system"]["label"]
    sorted_view = dump(f"?sort={label} [{made['flite1'].name}]|wer.wer|desc".replace(" ", "%20"))
    assert f'data-first-item="{worst}"' in sorted_view
    espeak = json.loads((made["espeak"] / "results.json").read_text())["system"]["label"]
    filtered = dump(f"?system={espeak}".replace(" ", "%20"))
    body = filtered.split("<body", 1)[1].split(">", 1)[0]
    assert int(body.split('data-audio-loaded="')[1].split('"')[0]) == 12 * 3  # prompt, ground truth, espeak
    assert filtered.count(f'data-system="{espeak}"') == 12 and 'data-system="Ground truth"' not in filtered
    shot = tmp_path / "listening.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'q'}",
                    f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()], capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10000


HOSTILE_TEXTS = ["<!--<script>", "</script><script>document.body.dataset.pwned = '1'</script>",
                 "a & b <b>bold</b> \"double\" 'single' &amp;", "{{ 7 * 7 }} {% raw %} ]]>",
                 "line\u2028separator \u2029 and <img src=x onerror=\"document.body.dataset.pwned='2'\">"]


def test_listening_page_shows_hostile_texts_as_text(tmp_path, samples):
    """Manifest text is data: texts that would close the JSON block, open a comment or inject an
    element are shown verbatim, and every item still renders (headless Chromium)."""
    import html

    from ztts1_eval.pipeline import manifest
    from ztts1_eval.pipeline.manifest import Item

    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(samples / "en/ljspeech_LJ001-0001.flac", root / "p.flac")
    manifest.write(tmp_path / "hostile.jsonl", [
        Item(id=f"h{k}", subset="t", language="en", prompt_wav="p.flac", target_text=text, gt_wav="p.flac")
        for k, text in enumerate(HOSTILE_TEXTS)])
    runner.run(make_config(["benchmark=manifest", f"benchmark.manifest={tmp_path / 'hostile.jsonl'}",
                            f"benchmark.data_root={root}", f"results_dir={tmp_path / 'results'}", "system=ground_truth",
                            "scorers=lite", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality",
                            "~scorers.run.prosody", "progress=false"]))
    report.report(tmp_path / "results", "custom")
    page = tmp_path / "results/custom/listen/index.html"
    source = page.read_text()
    assert source.count("</script>") == 2  # the data block's and the page script's own, nothing more
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the listening-page test needs Debian's chromium (make setup installs it)"
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}",
                          "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    body = out.stdout.split("<body", 1)[1].split(">", 1)[0]
    assert 'data-ready="1"' in body and f'data-items-shown="{len(HOSTILE_TEXTS)}"' in body
    assert "pwned" not in body
    for text in HOSTILE_TEXTS:  # each shown as text, in its card
        assert f"<p>{html.escape(text, quote=False)}</p>" in out.stdout, text


def test_results_contract_types_refusals_and_renamed_slots(runs, tmp_path):
    """load_results is the one reader: typed item columns, clear refusals, and figures that find
    their metric by what it is, so renaming a scorer slot keeps them."""
    from ztts1_eval.core.errors import ConfigError
    from ztts1_eval.report.model import ITEM_SCHEMA, load_results

    _, made = runs
    result = load_results(made["flite1"])
    assert result.label == "Flite (slt)" and list(result.scorers) == ["wer", "sim", "prosody"]
    assert result.overall.cells["wer.wer"].n == result.overall.n
    stored = pq_schema(made["flite1"] / "items.parquet")
    assert all(stored.field(f.name).type == f.type for f in ITEM_SCHEMA)  # all-null columns keep their type
    assert str(stored.field("wer.wer_errors").type) == "int64" and str(stored.field("wer.wer").type) == "double"
    with pytest.raises(ConfigError, match="is not a run directory"):
        load_results(tmp_path)
    unfinished = tmp_path / "unfinished"
    shutil.copytree(made["flite1"], unfinished)
    (unfinished / "results.json").unlink()
    with pytest.raises(ConfigError, match="no results yet .*ztts1-eval finalize"):
        load_results(unfinished)

    # The similarity slot renamed "speaker" (results, items and run.json alike): same figure.
    root = tmp_path / "renamed"
    shutil.copytree(made["truth"].parent.parent.parent, root)
    for run_dir in root.glob("demo/*/*/"):
        run = json.loads((run_dir / "run.json").read_text())
        (run_dir / "run.json").write_text(json.dumps({**run, "scorers": ["speaker" if s == "sim" else s
                                                                         for s in run["scorers"]]}))
        items = pd.read_parquet(run_dir / "items.parquet")
        items.columns = [c.replace("sim", "speaker", 1) if c.startswith("sim") else c for c in items.columns]
        items.to_parquet(run_dir / "items.parquet")
        text = (run_dir / "results.json").read_text().replace('"sim.sim"', '"speaker.sim"')
        final = json.loads(text)
        final["scorers"]["speaker"] = final["scorers"].pop("sim")
        (run_dir / "results.json").write_text(json.dumps(final))
    report.report(root, "demo")
    report.report(made["truth"].parent.parent.parent, "demo")
    figure = "demo/plots/speaker_similarity_distribution.csv"
    renamed = pd.read_csv(root / figure)
    assert len(renamed) > 0
    pd.testing.assert_frame_equal(renamed, pd.read_csv(made["truth"].parent.parent.parent / figure))


def pq_schema(path: Path):
    import pyarrow.parquet as pq

    return pq.read_schema(path)
