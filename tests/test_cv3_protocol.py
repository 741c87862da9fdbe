"""BENCHMARK=cv3 end to end with its own stack (SCORERS=cv3 is its default): an English zero-shot
leaf synthesized by Flite, scored by the openai-whisper package on a tiny checkpoint, a tiny
ERes2Net and DNSMOS P.808, with Table VII's CV3-Eval zero-shot row under our en column."""

import csv
import json

import pytest
import torch

from conftest import REPO, make_config
from data_fixtures import write_cv3_leaf
from seeded_weights import values
from tiny_openai_whisper import write as write_whisper
from ztts1_eval.data import cli as data_cli
from ztts1_eval.pipeline import runner
from ztts1_eval.scorers.base import ScorerUnavailable


def test_cv3_zero_shot_runs_its_own_stack(tmp_path, monkeypatch, shared_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    checkout = tmp_path / "CV3-Eval"
    leaf = write_cv3_leaf(checkout, "en", 2)
    manifest, _ = data_cli.build("cv3", [f"leaves=[{leaf}]"], None, False)
    base = ["benchmark=cv3", f"benchmark.data_root={checkout}", f"benchmark.manifest={manifest}",
            "benchmark.languages=[en]", "system=flite", "+system.published_as=ZONOS2 8B",
            f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}", "progress=false"]
    with pytest.raises(ScorerUnavailable) as err:
        runner.run(make_config([*base, "scorers.run.wer.by_language.other.audio_loader=soxr"]))
    message = str(err.value)
    assert str(tmp_path / "models/whisper/large-v3.pt") in message and "speech_eres2net_sv_en_voxceleb_16k" in message
    assert "paraformer" not in message  # an English leaf needs no Chinese ASR

    whisper = write_whisper(tmp_path / "models/whisper-tiny.pt")
    eres2net = json.loads((REPO / "tests/data/eres2net_official/reference.json").read_text())["models"]["one_emb_layer"]
    checkpoint = tmp_path / "models/speech_eres2net_sv_en_voxceleb_16k/pretrained_eres2net.ckpt"
    checkpoint.parent.mkdir(parents=True)
    torch.save({k: torch.from_numpy(v) for k, v in values(eres2net["spec"], eres2net["seed"]).items()}, checkpoint)
    args = ",".join(f"{k}:{json.dumps(v)}" for k, v in eres2net["config"].items())
    summary = runner.run(make_config([
        *base, f"scorers.run.wer.by_language.other.model={whisper}", "scorers.run.wer.by_language.other.audio_loader=soxr",
        f"+scorers.run.sim.model_args={{{args}}}"]))
    items = summary.results.items().set_index("id")
    assert (items["wer_status"] == "ok").all() and (items["sim_status"] == "ok").all()
    assert items["quality.dnsmos_p808"].between(1.0, 5.0).all() and (items["quality_status"] == "ok").all()
    identity = summary.results.scorers["wer"].identity["by_language"]
    assert list(identity) == ["other"] and identity["other"]["audio_loader"] == "soxr"
    rows = list(csv.reader(open(summary.run_dir / "table.csv")))
    header = rows[0]
    published = {r[2]: r[header.index("en")] for r in rows if r[1] == "↳ published (VII_CosyVoice_3_Eval)"}
    assert published == {"WER": "4.48", "Spk. sim.": "49.66", "DNSMOS": "3.901"}  # Table VII zero-shot en
    comparable = {r["metric"]: r["comparable"] for r in csv.DictReader(open(summary.run_dir / "table_vs_paper.csv"))
                  if r["column"] == "en"}
    # Flite speaks a preset voice (Spk. sim.*): never compared with a cloned similarity
    assert comparable == {"WER (%) ↓": "True", "Spk. sim.* ↑": "False", "DNSMOS P.808 ↑": "True"}
