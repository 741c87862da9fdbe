"""Bad input becomes recorded per-item failures; interrupted and sharded runs merge into the
same items.parquet as one uninterrupted run."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conftest import REPO, make_config, write_tone
from ztts1_eval.core import audio
from ztts1_eval.pipeline import manifest, runner
from ztts1_eval.pipeline.manifest import Item
from ztts1_eval.report.results import TIMING_COLUMNS


def _frame(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "items.parquet").drop(columns=list(TIMING_COLUMNS))


@pytest.fixture()
def bad_data(tmp_path, samples) -> Path:
    """A data root with real clips (copied into the test's own temporary folder) and broken ones."""
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(samples / "en/ljspeech_LJ001-0001.flac", root / "lj1.flac")
    shutil.copy(samples / "en/ljspeech_LJ001-0004.flac", root / "lj4.flac")
    (root / "empty.wav").write_bytes(b"")
    (root / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(256)) * 4)
    sf.write(root / "silent.wav", np.zeros(16000, np.float32), 16000)
    nan = np.full(16000, 0.1, np.float32)
    nan[10] = np.nan
    sf.write(root / "nan.wav", nan, 16000, subtype="FLOAT")
    text = "produced the block books which were the immediate predecessors of the true printed book"
    items = [Item(id="ok", subset="t", language="en", prompt_wav="lj1.flac", target_text=text, gt_wav="lj4.flac")]
    for name in ("empty", "corrupt", "silent", "nan"):
        items.append(Item(id=name, subset="t", language="en", prompt_wav="lj1.flac", target_text=text, gt_wav=f"{name}.wav"))
    items.append(Item(id="silent-prompt", subset="t", language="en", prompt_wav="silent.wav", target_text=text, gt_wav="lj4.flac"))
    sf.write(root / "hum.wav", 0.05 * np.sin(2 * np.pi * 50 * np.arange(32000) / 16000).astype(np.float32), 16000)
    items.append(Item(id="hum-prompt", subset="t", language="en", prompt_wav="hum.wav", target_text=text, gt_wav="lj4.flac"))
    items.append(Item(id="corrupt-prompt", subset="t", language="en", prompt_wav="corrupt.wav", target_text=text, gt_wav="lj4.flac"))
    items.append(Item(id="german", subset="t", language="de", prompt_wav="lj1.flac", target_text="guten tag", gt_wav="lj4.flac"))
    manifest.write(tmp_path / "bad.jsonl", items)
    return tmp_path


def _custom(data: Path, *extra: str) -> dict:
    return make_config(["benchmark=manifest", f"benchmark.manifest={data / 'bad.jsonl'}",
                        f"benchmark.data_root={data / 'data'}", f"results_dir={data / 'results'}",
                        "progress=false", *extra])


def test_bad_audio_becomes_recorded_failures(bad_data, shared_cache):
    summary = runner.run(_custom(bad_data, "system=ground_truth", f"cache_dir={shared_cache}"))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert summary.results.counts == {"failed": 5, "ok": 4}
    reasons = items["failure_reason"]
    assert "empty audio file" in reasons["empty"]
    assert "unreadable audio file" in reasons["corrupt"]
    assert "silent" in reasons["silent"]
    assert "NaN" in reasons["nan"]
    assert (items.loc[["empty", "corrupt", "silent", "nan"], "sim_status"] == "skipped").all()
    # a prompt without speech (mains hum) fails its item before synthesis: nothing to clone from ...
    assert reasons["hum-prompt"] == "no speech detected in the prompt (Silero VAD; 2.00 s, peak -26 dBFS)"
    assert items.loc["silent-prompt", "sim_status"] == "failed" and "silent" in items.loc["silent-prompt", "sim_reason"]
    # ... one that cannot be decoded is left to the systems and scorers that read it
    assert items.loc["corrupt-prompt", "sim_status"] == "failed"
    assert items.loc["corrupt-prompt", "sim_reason"].startswith("unreadable audio file") and "corrupt.wav" in items.loc["corrupt-prompt", "sim_reason"]
    assert items.loc["corrupt-prompt", "quality_status"] == "ok"  # only the scorer that needs the prompt fails
    assert items.loc["german", "wer_status"] == "n/a" and "no offline ASR" in items.loc["german", "wer_reason"]
    assert items.loc["ok", "sim.sim"] > 70
    cell = summary.results.overall.cells["sim.sim"]
    assert (cell.n, cell.n_failed, cell.n_not_applicable) == (2, 7, 0)
    table = (summary.run_dir / "table.md").read_text()
    assert "(7✗)" in table  # en SIM: 2 scored out of 9 items, failures shown in the cell
    assert "| n/a |" in table  # de WER


def test_unsupported_language_is_counted_and_shown(bad_data, shared_cache):
    summary = runner.run(_custom(bad_data, "system=flite", "benchmark.ids=[ok,german]", f"cache_dir={shared_cache}",
                                 "~scorers.run.sim", "~scorers.run.quality"))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert items.loc["german", "status"] == "unsupported"
    assert "does not support language 'de'" in items.loc["german", "failure_reason"]
    assert summary.generation["unsupported"] == 1
    table = (summary.run_dir / "table.md").read_text()
    assert "| unsupported |" in table  # the de column
    assert "(1 unsup.) |" in table  # the pooled column says what it left out
    assert items.loc["german", "wer_status"] == "unsupported"


def test_continuation_items_are_never_run_in_another_mode(bad_data, shared_cache):
    """An item whose prompt must be continued (meta mode: continuation) is unsupported by a
    system that cannot continue a prompt, with the reason; the system's capability is recorded."""
    text = "produced the block books"
    manifest.write(bad_data / "continuation.jsonl", [
        Item(id="zero-shot", subset="t", language="en", prompt_wav="lj1.flac", target_text=text, gt_wav="lj4.flac"),
        Item(id="continue", subset="t", language="en", prompt_wav="lj1.flac", prompt_text="Printing, in the only sense",
             target_text=text, gt_wav="lj4.flac", meta={"mode": "continuation"})])
    summary = runner.run(make_config([
        "benchmark=manifest", f"benchmark.manifest={bad_data / 'continuation.jsonl'}",
        f"benchmark.data_root={bad_data / 'data'}", f"results_dir={bad_data / 'results'}", "progress=false",
        "system=flite", f"cache_dir={shared_cache}", "~scorers.run.sim", "~scorers.run.quality"]))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert items.loc["zero-shot", "status"] == "ok" and items.loc["continue", "status"] == "unsupported"
    assert "flite cannot continue a prompt" in items.loc["continue", "failure_reason"]
    assert summary.generation["unsupported"] == 1
    system = json.loads((summary.run_dir / "system.json").read_text())
    assert system["capabilities"]["continues_prompt"] is False


def test_changed_audio_is_rescored_and_nothing_else(tmp_path, samples):
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(samples / "en/ljspeech_LJ001-0001.flac", root / "speech.flac")
    other = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")
    sf.write(root / "tone.wav", other.samples[:2 * other.sample_rate], other.sample_rate)
    manifest.write(tmp_path / "m.jsonl", [
        Item(id="a", subset="t", language="en", prompt_wav="speech.flac", target_text="x", gt_wav="speech.flac"),
        Item(id="b", subset="t", language="en", prompt_wav="tone.wav", target_text="x", gt_wav="tone.wav"),
    ])
    overrides = ["system=ground_truth", "benchmark=manifest", f"benchmark.manifest={tmp_path / 'm.jsonl'}",
                 f"benchmark.data_root={root}", f"results_dir={tmp_path / 'results'}", "progress=false",
                 "~scorers.run.wer", "~scorers.run.sim"]
    first = runner.run(make_config(overrides))
    assert first.scoring["quality"].computed == 2
    sf.write(root / "tone.wav", 0.5 * other.samples[:3 * other.sample_rate], other.sample_rate)  # new content, same path
    (first.run_dir / "wavs" / "b.wav").unlink()  # the output is gone: regenerated from the new file
    second = runner.run(make_config(overrides))
    assert second.generation["generated"] == 1 and second.generation["reused"] == 1
    assert (second.scoring["quality"].computed, second.scoring["quality"].reused) == (1, 1)


def test_half_rescored_run_marks_the_rest_stale(tmp_path, shared_cache):
    base = ["system=ground_truth", "benchmark.languages=[en]", "benchmark.max_items=4", "~scorers.run.wer",
            "~scorers.run.sim", f"results_dir={tmp_path}", f"cache_dir={shared_cache}", "progress=false"]
    runner.run(make_config(base))
    # A new scorer version reaches only shard 0 of 2 (the other shard has not run yet).
    half = runner.run(make_config([*base, "+scorers.run.quality.personalized=true", "shard.count=2"]))
    assert not half.finalized
    from ztts1_eval.report import build as report
    _, [final] = report.report(tmp_path, "demo")
    assert final.complete is False
    items = pd.read_parquet(half.run_dir / "items.parquet")
    assert sorted(items["quality_status"]) == ["ok", "ok", "stale", "stale"]
    assert items.loc[items["quality_status"] == "stale", "quality.dnsmos_ovrl"].isna().all()
    assert "another version of this scorer" in items.loc[items["quality_status"] == "stale", "quality_reason"].iloc[0]


def test_changed_system_is_not_mixed_into_an_old_run(tmp_path, shared_cache):
    from ztts1_eval.core import atomic
    from ztts1_eval.pipeline.generation import SystemChanged

    overrides = ["system=flite", "benchmark.ids=[en-fleurs_en_003,en-fleurs_en_004]", "~scorers.run.sim",
                 "~scorers.run.quality", "~scorers.run.wer", f"results_dir={tmp_path}", "progress=false"]
    first = runner.run(make_config(overrides))
    recorded = atomic.read_json(first.run_dir / "system.json")
    assert recorded["voice"] == "slt" and "flite" in recorded["version"]
    # As if the run had started under another flite build, and one item is still to do.
    atomic.write_json(first.run_dir / "system.json", {**recorded, "version": "flite-1.0 (older build)"})
    (first.run_dir / "generation" / "en-fleurs_en_004.json").unlink()
    with pytest.raises(SystemChanged, match=r"flite has changed since this run started \(fields \['version'\]"):
        runner.run(make_config(overrides))


def test_report_works_without_the_audio(tmp_path, bad_data, shared_cache):
    summary = runner.run(_custom(bad_data, "system=ground_truth", "benchmark.ids=[ok]", f"cache_dir={shared_cache}"))
    (bad_data / "data").rename(bad_data / "moved")  # results copied to a machine without the data
    from ztts1_eval.report import build as report
    markdown, [final] = report.report(bad_data / "results", "custom")
    assert final.complete and "| Ground truth | WER (%) ↓ |" in markdown
    assert summary.run_dir.is_dir()


def _spawn(overrides: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ztts1_eval", "eval", *overrides], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(proc: subprocess.Popen, folder_of: callable, low: int, high: int, timeout: float = 180) -> int:
    """SIGKILL the process once ``low <= files < high`` appear in the folder; return the count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        folder = folder_of()
        count = len(list(folder.glob("*.json"))) if folder and folder.is_dir() else 0
        if low <= count < high:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return count
        if proc.poll() is not None:
            pytest.fail(f"run finished before it could be killed (count={count})")
        time.sleep(0.005)
    proc.kill()
    pytest.fail("timed out waiting for progress")


def _run_dir_under(results: Path, system: str) -> Path | None:
    found = list((results / "demo" / system).glob("*/run.json"))
    return found[0].parent if found else None


@pytest.mark.parametrize("stage", ["generation", "scoring"])
def test_kill_9_then_rerun_matches_uninterrupted_run(tmp_path, stage):
    if stage == "generation":
        base = ["system=espeak", "system.batch_size=1", "benchmark.max_items=10", "~scorers.run.sim", "~scorers.run.quality",
                "~scorers.run.prosody"]  # one scorer is enough to compare the two runs' items
        sub, low, high = "generation", 1, 10  # any partial state: 1..9 of 10 records
    else:
        base = ["system=ground_truth", "benchmark.max_items=10", "~scorers.run.wer", "~scorers.run.sim",
                "~scorers.run.prosody"]
        sub, low, high = "scores/quality", 3, 10  # _scorer.json + 2..8 items
    interrupted = [*base, f"results_dir={tmp_path / 'a'}", f"cache_dir={tmp_path / 'a-cache'}", "progress=false"]
    proc = _spawn(interrupted)
    _kill_when(proc, lambda: (_run_dir_under(tmp_path / "a", base[0].split("=")[1]) or Path("/nonexistent")) / sub, low, high)
    run_dir = _run_dir_under(tmp_path / "a", base[0].split("=")[1])
    assert not (run_dir / "items.parquet").exists()  # killed before finishing
    resumed = runner.run(make_config(interrupted))
    assert resumed.finalized
    if stage == "generation":
        assert resumed.generation["reused"] >= low and resumed.generation["generated"] == 10 - resumed.generation["reused"]
    else:
        assert resumed.scoring["quality"].reused >= low - 1
    clean = runner.run(make_config([*base, f"results_dir={tmp_path / 'b'}", f"cache_dir={tmp_path / 'b-cache'}",
                                    "progress=false"]))
    assert clean.run_id == resumed.run_id
    pd.testing.assert_frame_equal(_frame(resumed.run_dir), _frame(clean.run_dir))
    assert len(_frame(resumed.run_dir)) == 10


def test_shards_merge_into_the_same_items(tmp_path, shared_cache):
    base = ["system=ground_truth", "benchmark.languages=[en]", "benchmark.max_items=4", "~scorers.run.wer",
            f"cache_dir={shared_cache}", "progress=false"]
    sharded = [*base, f"results_dir={tmp_path / 'sharded'}"]
    first = runner.run(make_config([*sharded, "shard.index=1", "shard.count=2"]))
    assert first.n_shard_items == 2 and not first.finalized
    assert not (first.run_dir / "items.parquet").exists()
    second = runner.run(make_config([*sharded, "shard.index=0", "shard.count=2"]))
    assert second.finalized and second.run_dir == first.run_dir
    whole = runner.run(make_config([*base, f"results_dir={tmp_path / 'whole'}"]))
    pd.testing.assert_frame_equal(_frame(second.run_dir), _frame(whole.run_dir))


def test_all_failed_or_over_the_limit_exits_non_zero_with_the_reasons(bad_data, shared_cache):
    """Every item failing is not a result: `eval` keeps what it wrote and exits 3, saying why."""
    common = ["benchmark=manifest", f"benchmark.manifest={bad_data / 'bad.jsonl'}",
              f"benchmark.data_root={bad_data / 'data'}", f"results_dir={bad_data / 'results'}", "progress=false",
              "system=ground_truth", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality",
              "~scorers.run.prosody", f"cache_dir={shared_cache}"]
    broken = subprocess.run([sys.executable, "-m", "ztts1_eval", "eval", *common,
                             "benchmark.ids=[empty,corrupt]"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert broken.returncode == 3, broken.stderr[-2000:]
    assert "2 of 2 items failed (100.0 %: every item failed); top reasons:" in broken.stderr
    assert "1 x " in broken.stderr and "results.json" not in broken.stderr
    mixed = ["benchmark.ids=[ok,empty,corrupt]"]  # 2 of 3 fail
    assert runner.run(_custom(bad_data, *common[4:], *mixed)).failure is None  # default: only all-failed fails
    summary = runner.run(_custom(bad_data, *common[4:], *mixed, "max_failure_rate=0.2"))
    assert summary.failure and "over max_failure_rate=0.2" in summary.failure
    assert (summary.run_dir / "results.json").is_file()  # the finished work is kept


def test_a_second_process_on_the_same_shard_stops_naming_the_first(bad_data, shared_cache):
    from ztts1_eval.pipeline import run_guard

    config = _custom(bad_data, "system=ground_truth", "benchmark.ids=[ok]", f"cache_dir={shared_cache}")
    first = runner.run(config)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, '.');"
        "from ztts1_eval.pipeline.run_guard import shard_lock;"
        f"cm = shard_lock(__import__('pathlib').Path({str(first.run_dir)!r}), 0, 1); cm.__enter__();"
        "print('held', flush=True); time.sleep(60)")], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(run_guard.RunLocked, match=rf"shard 0-of-1 of run .* is being run by PID {holder.pid} on "):
            runner.run(config)
    finally:
        holder.kill()
        holder.wait()
    assert runner.run(config).run_id == first.run_id  # the lock died with its process


def test_clips_over_max_audio_s_fail_their_item_with_the_reason(tmp_path, samples):
    """A 10-minute clip would cost more than the whole benchmark: it fails its item at once."""
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(samples / "en/ljspeech_LJ001-0001.flac", root / "speech.flac")
    write_tone(root / "ten_minutes.wav", seconds=600.0, rate=8000)
    write_tone(root / "short.wav", seconds=0.3)
    text = "printing in the only sense with which we are at present concerned"
    manifest.write(tmp_path / "m.jsonl", [
        Item(id="fine", subset="t", language="en", prompt_wav="speech.flac", target_text=text, gt_wav="speech.flac"),
        Item(id="long-gt", subset="t", language="en", prompt_wav="speech.flac", target_text=text,
             gt_wav="ten_minutes.wav"),
        Item(id="long-prompt", subset="t", language="en", prompt_wav="ten_minutes.wav", target_text=text),
        Item(id="short-prompt", subset="t", language="en", prompt_wav="short.wav", target_text=text)])
    common = ["benchmark=manifest", f"benchmark.manifest={tmp_path / 'm.jsonl'}", f"benchmark.data_root={root}",
              f"results_dir={tmp_path / 'r'}", "progress=false", "~scorers.run.wer", "~scorers.run.sim",
              "~scorers.run.quality", "~scorers.run.prosody"]
    start = time.perf_counter()
    truth = runner.run(make_config(["system=ground_truth", *common]))
    assert time.perf_counter() - start < 60
    frame = pd.read_parquet(truth.run_dir / "items.parquet").set_index("id")
    assert frame.loc["fine", "status"] == "ok"
    assert frame.loc["long-gt", "failure_reason"] == "the ground-truth recording is 600.0 s, over max_audio_s=60"
    assert frame.loc["long-prompt", "failure_reason"] == "the prompt is 600.0 s, over max_audio_s=60"
    # (a 0.3 s prompt has no speech for the VAD; the check is beside the point here)
    flite = runner.run(make_config(["system=flite", "benchmark.ids=[short-prompt]", "max_audio_s=0.5",
                                    "speech_check=null", *common]))
    reason = pd.read_parquet(flite.run_dir / "items.parquet").set_index("id").loc["short-prompt", "failure_reason"]
    assert reason.startswith("output is ") and reason.endswith("s, over max_audio_s=0.5")


def test_suspicious_audio_is_scored_and_flagged(tmp_path, samples, caplog):
    """Clipped, 8-bit, stereo 96 kHz and near-silent-short clips decode and are scored as usual,
    and every one is flagged per item and counted under the table."""
    root = tmp_path / "data"
    root.mkdir()
    speech = audio.read_checked(samples / "en/ljspeech_LJ001-0001.flac")
    shutil.copy(samples / "en/ljspeech_LJ001-0001.flac", root / "plain.flac")
    loud = np.clip(speech.samples * 40.0, -1.0, 1.0)  # most samples pinned at full scale
    sf.write(root / "clipped.wav", loud, speech.sample_rate)
    sf.write(root / "eight_bit.wav", speech.samples, speech.sample_rate, subtype="PCM_U8")
    wide = audio.resample(speech, 96000).samples
    sf.write(root / "stereo_96k.wav", np.stack([wide, wide], axis=1), 96000)
    sf.write(root / "blip.wav", (0.001 * np.sin(np.arange(3000) / 5)).astype(np.float32), 16000)
    text = "printing in the only sense with which we are at present concerned"
    clips = ["plain.flac", "clipped.wav", "eight_bit.wav", "stereo_96k.wav", "blip.wav"]
    manifest.write(tmp_path / "m.jsonl", [Item(id=Path(c).stem.replace("_", "-"), subset="t", language="en",
                                               prompt_wav="plain.flac", target_text=text, gt_wav=c) for c in clips]
                   + [Item(id="silent-prompt", subset="t", language="en", prompt_wav="blip.wav", target_text=text,
                           gt_wav="plain.flac")])
    summary = runner.run(make_config([
        "benchmark=manifest", f"benchmark.manifest={tmp_path / 'm.jsonl'}", f"benchmark.data_root={root}",
        f"results_dir={tmp_path / 'r'}", "progress=false", "system=ground_truth", "~scorers.run.wer",
        "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody"]))
    frame = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert (frame.drop(index=["blip", "silent-prompt"])["status"] == "ok").all()  # decodable: scored as usual
    # ... but a recording without speech cannot be compared with: its item fails, with the level
    assert frame.loc["blip", "status"] == "failed"
    assert frame.loc["blip", "failure_reason"] == ("no speech detected in the ground-truth recording "
                                                   "(Silero VAD; 0.19 s, peak -60 dBFS)")
    assert frame.loc["blip", "gt_speech_s"] == 0.0 and frame.loc["blip", "gt_peak_dbfs"] == pytest.approx(-60.0, abs=0.1)
    assert frame.loc["plain", "gt_speech_s"] > 7.0 and frame.loc["plain", "prompt_speech_s"] > 7.0
    assert frame.loc["clipped", "gt_peak_dbfs"] == 0.0 and frame.loc["clipped", "gt_rms_dbfs"] > -6.0
    assert frame.loc["plain", "gt_rms_dbfs"] < -15.0 and frame.loc["plain", "output_rms_dbfs"] == frame.loc["plain", "gt_rms_dbfs"]
    assert summary.results.speech_check["threshold"] == 0.5
    assert pd.isna(frame.loc["plain", "gt_flags"]) and frame["prompt_flags"].drop(index="silent-prompt").isna().all()
    assert frame.loc["silent-prompt", "failure_reason"].startswith("no speech detected in the prompt (Silero VAD")
    assert frame.loc["clipped", "gt_flags"].startswith("clipped ") and int(
        frame.loc["clipped", "gt_flags"].split()[1].rstrip("%")) >= 40
    assert "8-bit (PCM_U8)" in frame.loc["eight-bit", "gt_flags"]
    assert "2 channels" in frame.loc["stereo-96k", "gt_flags"] and "96000 Hz" in frame.loc["stereo-96k", "gt_flags"]
    assert frame.loc["blip", "gt_flags"] == "short (0.19 s)"
    assert frame.loc["clipped", "output_flags"].startswith("clipped ")  # the copy is clipped too
    assert summary.results.flagged["gt"] == 4
    table = (summary.run_dir / "table.md").read_text()
    assert "flagged audio (items.parquet *_flags): prompt 1, ground truth 4, output" in table
    assert "8-bit (PCM_U8)" in caplog.text and "eight_bit.wav" in caplog.text  # and warned about, by file


def test_an_item_over_the_scorer_time_limit_fails_and_the_run_moves_on(tmp_path, samples):
    """A 59 s clip under a 1.5 s-per-item limit: its batch runs out of time, is scored again item
    by item, and only the slow item fails (with the reason); the short one is scored."""
    root = tmp_path / "data"
    root.mkdir()
    speech = audio.read_checked(samples / "en/jfk_inaugural_1961.flac")
    rate = speech.sample_rate
    sf.write(root / "short.wav", speech.samples[:int(2.5 * rate)], rate)
    sf.write(root / "long.wav", np.tile(speech.samples, 6)[:59 * rate], rate)
    text = "and so my fellow americans"
    manifest.write(tmp_path / "m.jsonl", [Item(id=name, subset="t", language="en", prompt_wav="short.wav",
                                               target_text=text, gt_wav=f"{name}.wav") for name in ("short", "long")])
    start = time.perf_counter()
    summary = runner.run(make_config([
        "benchmark=manifest", f"benchmark.manifest={tmp_path / 'm.jsonl'}", f"benchmark.data_root={root}",
        f"results_dir={tmp_path / 'r'}", "progress=false", "system=ground_truth", "~scorers.run.wer",
        "~scorers.run.sim", "~scorers.run.prosody", "scorers.run.quality.batch_size=2", "scorer_item_timeout_s=1.5"]))
    assert time.perf_counter() - start < 45  # DNSMOS on the whole 59 s clip would take ~10 s more
    frame = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert frame.loc["long", "quality_status"] == "failed"
    assert frame.loc["long", "quality_reason"] == "scoring took over 1.5 s (scorer_item_timeout_s)"
    assert frame.loc["short", "quality_status"] == "ok" and 1.0 < frame.loc["short", "quality.dnsmos_ovrl"] < 5.0
