"""Speaking-rate control accuracy: the delivered-rate measure on audio stretched by a known
factor, and an espeak words-per-minute sweep through the pipeline and `ztts1-eval control`."""

import json

import librosa
import numpy as np
import pandas as pd
import pytest

from conftest import make_config
from ztts1_eval.core import audio
from ztts1_eval.pipeline import runner
from ztts1_eval.pipeline.speech_check import SpeechCheck
from ztts1_eval.report import control


def test_stretched_speech_reads_as_the_planted_rate(samples):
    clip = audio.read_checked(samples / "en/ljspeech_LJ001-0001.flac")
    check = SpeechCheck()
    text = "Printing, in the only sense with which we are at present concerned, differs from most if not from all"
    rates = {}
    for factor in (0.8, 1.0, 1.25):  # slower, as is, faster
        stretched = librosa.effects.time_stretch(clip.samples, rate=factor)
        speech_s = check.speech_seconds(audio.Audio(stretched.astype(np.float32), clip.sample_rate))
        items = pd.DataFrame({"target_text": [text], "language": ["en"], "output_speech_s": [speech_s]})
        rates[factor] = float(control.delivered_rate(items).iloc[0])
    for factor in (0.8, 1.25):
        assert rates[factor] / rates[1.0] == pytest.approx(factor, rel=0.05), factor


def test_espeak_words_per_minute_sweep(tmp_path, shared_cache):
    base = ["system=espeak", "scorers=lite", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody",
            "benchmark.languages=[en]", "benchmark.max_items=2", f"results_dir={tmp_path / 'r'}",
            f"cache_dir={shared_cache}", "progress=false"]
    for wpm in (110, 170, 260):
        runner.run(make_config([*base, f"system.options.words_per_minute={wpm}"]))
    path = control.write(tmp_path / "r", "demo", "espeak", "words_per_minute")
    summary = json.loads(path.with_suffix(".json").read_text())
    medians = [row["measured_median"] for row in summary["per_setting"]]
    assert [row["requested"] for row in summary["per_setting"]] == [110, 170, 260]
    assert medians[0] < medians[1] < medians[2] and summary["spearman"] > 0.8  # espeak obeys its control
    assert all(row["n"] == 2 and "wer.wer" in row for row in summary["per_setting"])
    assert "Spearman rank correlation" in path.read_text() and path.with_suffix(".png").stat().st_size > 5000
    with pytest.raises(ValueError, match="two or more"):
        control.write(tmp_path / "r", "demo", "flite", "words_per_minute")
