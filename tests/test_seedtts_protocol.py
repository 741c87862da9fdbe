"""BENCHMARK=seedtts_zh_hard end to end with its own stack (SCORERS=seedtts is its default): a
Seed-TTS-Eval hardcase.lst over real Chinese speech, stopped before synthesis without weights,
then scored by tiny Paraformer-zh and WavLM-ECAPA checkpoints, the published Table VII row under
our hard_zh column."""

import csv
import json
import shutil

import pytest

from conftest import REPO, SAMPLES, make_config
from tiny_paraformer import write_model_dir
from tiny_unispeech_sv import write_checkpoint
from ztts1_eval.data import cli as data_cli
from ztts1_eval.pipeline import runner
from ztts1_eval.scorers.base import ScorerUnavailable


def _hardcase_list(root):
    rows = {line.split("\t")[0]: line.split("\t") for line in (SAMPLES / "samples.tsv").read_text().splitlines()}
    a, b = "zh/aishell_BAC009S0724W0121.wav", "zh/fleurs_cmn_1883.wav"
    lst = root / "zh" / "hardcase.lst"
    (lst.parent / "wavs").mkdir(parents=True)
    for clip in (a, b):  # the shared samples, laid out as the test set's folders (temporary copies)
        shutil.copy(SAMPLES / clip, lst.parent / "wavs" / clip.split("/")[1])
    a_wav, b_wav = (f"wavs/{clip.split('/')[1]}" for clip in (a, b))
    lst.write_text(f"u1|{rows[a][3]}|{a_wav}|{rows[b][3]}|{b_wav}\n"
                   f"u2|{rows[b][3]}|{b_wav}|{rows[a][3]}|{a_wav}\n", encoding="utf-8")
    return lst


def test_seedtts_zh_hard_runs_its_own_stack(tmp_path, monkeypatch, shared_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    root = tmp_path / "seed-tts-eval"
    lst = _hardcase_list(root)
    data_cli.build("seedtts", [f"list={lst}", "language=zh", f"data_root={root}"], root / "seedtts_zh_hard.jsonl",
                   False)
    base = ["benchmark=seedtts_zh_hard", f"benchmark.data_root={root}", "system=ground_truth",
            "+system.published_as=ZONOS2 8B", f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}",
            "progress=false"]
    with pytest.raises(ScorerUnavailable) as err:
        runner.run(make_config(base))
    message = str(err.value)
    assert "huggingface-cli download funasr/paraformer-zh" in message and "wavlm_large_finetune.pth" in message
    assert "whisper" not in message  # a Chinese list needs no English ASR
    assert not list((tmp_path / "r").rglob("run.json"))

    paraformer = json.loads((REPO / "tests/data/paraformer_official/reference.json").read_text())
    write_model_dir(tmp_path / "models/paraformer-zh", paraformer["spec"], paraformer["seed"])  # found there
    sv = json.loads((REPO / "tests/data/unispeech_sv_official/reference.json").read_text())["layouts"]["large_layout"]
    write_checkpoint(tmp_path / "models/unispeech/wavlm_large_finetune.pth", sv["spec"], sv["seed"])
    (tmp_path / "wavlm.json").write_text(json.dumps(sv["cfg"]))
    summary = runner.run(make_config([*base, f"scorers.run.sim.wavlm_config={tmp_path / 'wavlm.json'}"]))
    items = summary.results.items().set_index("id")
    assert set(items["subset"]) == {"hard_zh"} and (items["wer_status"] == "ok").all()
    assert (items["sim_status"] == "ok").all() and items["sim.sim"].between(-100, 100).all()
    assert items.loc["hard_zh-u2", "wer.asr_hypothesis"] == paraformer["clips"]["aishell_16k"]["text"]
    assert list(summary.results.scorers["wer"].identity["by_language"]) == ["zh"]
    rows = list(csv.reader(open(summary.run_dir / "table.csv")))
    header = rows[0]
    published = {r[2]: r[header.index("hard_zh")] for r in rows if r[1] == "↳ published (VII_Seed-TTS-Eval)"}
    assert published == {"WER": "11.15", "Spk. sim.": "56.2"}  # Table VII, ZONOS2 8B, Test-ZH-Hard
    # deltas against Table VII count as comparable: the same protocol's scorers measured both
    deltas = {r["metric"].split(" ")[0]: r for r in csv.DictReader(open(summary.run_dir / "table_vs_paper.csv"))
              if r["column"] == "hard_zh"}
    assert deltas["WER"]["comparable"] == "True" and deltas["Spk."]["comparable"] == "True"
    assert float(deltas["Spk."]["delta"]) == pytest.approx(float(deltas["Spk."]["ours"]) - 56.2, abs=0.01)
