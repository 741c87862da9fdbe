"""Allosaurus phone rate (TTSDS2 prosody benchmark) on a tiny model in the release layout, its
model lookup and errors, and the benchmark plus its figure (report Fig. 7) through the pipeline."""

import numpy as np
import pandas as pd
import pytest

from conftest import make_config
from tiny_allosaurus import PHONES, write
from ztts1_eval.core import audio
from ztts1_eval.pipeline import runner
from ztts1_eval.report import plots, build as report
from ztts1_eval.prosody import allosaurus_rate
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScorerUnavailable


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write(tmp_path_factory.mktemp("allosaurus") / "uni2005")


def _speech(samples, name="en/librispeech_2412-153948-0000.flac"):
    return audio.resample(audio.read_checked(samples / name), 22050).samples


def test_phone_rate_on_real_speech_and_silence(model_dir, samples):
    rate = allosaurus_rate.PhoneRate(model_dir)
    speech = _speech(samples)
    phones = rate.phones(speech, 22050)
    assert phones and set(phones) <= set(PHONES)
    assert rate.rate(speech, 22050) == pytest.approx(len(phones) / (len(speech) / 22050))
    assert rate.phones(speech, 22050) == phones  # deterministic
    assert rate.rate(np.zeros(22050, dtype=np.float32), 22050) == 0.0
    other = allosaurus_rate.PhoneRate(write(model_dir.parent / "other", seed=1))
    assert other.phones(speech, 22050) != phones  # the weights are really used


def test_model_lookup_and_missing_files(model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(model_dir.parent.parent))
    (model_dir.parent.parent / "allosaurus").mkdir(exist_ok=True)
    linked = model_dir.parent.parent / "allosaurus/uni2005"
    if not linked.exists():
        linked.symlink_to(model_dir, target_is_directory=True)
    assert allosaurus_rate.locate("uni2005") == linked
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path))
    with pytest.raises(ScorerUnavailable, match=r"Allosaurus model 'uni2005' is not on this machine .*model\.pt.*"
                                                r"releases/download/v1\.0/uni2005\.tar\.gz"):
        registry.create("ttsds2_prosody", {"benchmarks": ["pitch", "allosaurus_rate"]})
    broken = tmp_path / "broken"
    write(broken)
    (broken / "model.pt").unlink()
    with pytest.raises(ScorerUnavailable, match="missing model.pt"):
        registry.create("ttsds2_prosody", {"benchmarks": ["allosaurus_rate"], "allosaurus_model": str(broken)})


def test_allosaurus_benchmark_and_speaking_rate_figure(model_dir, tmp_path, shared_cache):
    overrides = ["scorers=lite", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.sim",
                 "scorers.run.prosody.benchmarks=[pitch,allosaurus_rate]",
                 f"+scorers.run.prosody.allosaurus_model={model_dir}", "benchmark.languages=[en]",
                 f"results_dir={tmp_path}", f"cache_dir={shared_cache}", "progress=false"]
    truth = runner.run(make_config(["system=ground_truth", *overrides]))
    espeak = runner.run(make_config(["system=espeak", *overrides]))
    assert truth.results.overall.cells["prosody.prosody"].mean == 100.0
    cell = espeak.results.overall.cells["prosody.prosody"]
    assert cell.details["averaged"] == ["allosaurus_rate", "pitch"] and cell.details["benchmarks"]["allosaurus_rate"]["d_ref"] > 0
    ident = espeak.results.scorers["prosody"].identity["features"]["allosaurus_rate"]
    assert ident["model"] == "uni2005" and ident["package"].startswith("allosaurus==1.0.2")
    assert set(ident["sha256"]) == set(allosaurus_rate.MODEL_FILES)
    items = pd.read_parquet(espeak.run_dir / "items.parquet")
    assert (items["prosody.phone_rate"] >= 0).all() and (items["prosody.phone_rate_ref"] >= 0).all()
    assert (items["prosody.phone_rate_prompt"] >= 0).all()  # Fig. 7's source: the clone prompt
    assert ident["rate_distance_reference"].startswith("the clone prompt")

    report.report(tmp_path, "demo")
    figure = tmp_path / "demo/plots/speaking_rate_distance"
    assert figure.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    frame = pd.read_csv(figure.with_suffix(".csv"))
    mine = frame[frame["system"] == espeak.results.label].set_index("id")
    assert len(mine) == len(items)
    expected = (items.set_index("id")["prosody.phone_rate"] - items.set_index("id")["prosody.phone_rate_prompt"]).abs()
    np.testing.assert_allclose(mine.loc[expected.index, "distance"], expected)
    assert set(frame["source"]) == {"prompt"}
    # The real target recording is measured against its prompt too (not against itself).
    truth_items = pd.read_parquet(truth.run_dir / "items.parquet").set_index("id")
    truth_rows = frame[frame["system"] == truth.results.label].set_index("id")
    np.testing.assert_allclose(truth_rows["distance"],
                               (truth_items["prosody.phone_rate"] - truth_items["prosody.phone_rate_prompt"]).abs()[truth_rows.index])
    differs = truth_items["prompt_wav"] != truth_items["gt_wav"]
    assert differs.any() and (truth_rows.loc[differs[differs].index, "distance"] > 0).any()
    # A rate-control sweep reads Allosaurus phones/s beside the text rate: espeak at 160 and 260 words/min
    # (the tiny random model's phones are no measure of speed: this checks that they flow through).
    from ztts1_eval.report import control

    runner.run(make_config(["system=espeak", "system.options.words_per_minute=260", *overrides]))
    summary = control.summarize(control.measure(control.sweep(tmp_path, "demo", "espeak", "words_per_minute"),
                                                "words_per_minute"), "words_per_minute")
    slow, fast = summary["per_setting"]
    assert (slow["requested"], fast["requested"]) == (160, 260)
    items = pd.concat(pd.read_parquet(run.run_dir / "items.parquet") for _, run in
                      control.sweep(tmp_path, "demo", "espeak", "words_per_minute")[1:])
    assert fast["phones_per_s_median"] == pytest.approx(items["prosody.phone_rate"].median())
    assert slow["phones_per_s_median"] >= 0 and -1 <= summary["spearman_phones"] <= 1


def test_speaking_rate_distance_against_the_target_is_an_option(tmp_path):
    with pytest.raises(ValueError, match="rate_reference must be one of"):
        registry.create("ttsds2_prosody", {"benchmarks": ["pitch"], "rate_reference": "source"})
    assert registry.create("ttsds2_prosody", {"benchmarks": ["pitch"], "rate_reference": "target"}).info.needs_reference_audio is False
    items = pd.DataFrame({"id": ["a", "b"], "language": ["en", "en"], "prosody_status": ["ok", "ok"],
                          "phone_rate": [10.0, 12.0], "phone_rate_ref": [11.0, 11.5]})
    frame = plots.rate_distance("sys", items, "prosody_status")
    assert list(frame["source"]) == ["target", "target"] and list(frame["distance"]) == [1.0, 0.5]
