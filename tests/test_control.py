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
    # the ASR transcript's rate stands beside it (PocketSphinx drops words of fast espeak: its own measure)
    assert np.isfinite(summary["spearman_transcript"]) and "phones/s (Allosaurus)" not in path.read_text()
    assert all(row["transcript_median"] > 0 for row in summary["per_setting"])
    assert "from ASR transcript" in path.read_text()
    assert "Spearman rank correlation" in path.read_text() and path.with_suffix(".png").stat().st_size > 5000
    with pytest.raises(ValueError, match="two or more"):
        control.write(tmp_path / "r", "demo", "flite", "words_per_minute")
    # a quality feature as the measure reads each stored output (here: espeak's loudness per rate)
    runs = control.sweep(tmp_path / "r", "demo", "espeak", "words_per_minute")
    loudness = control.measure(runs, "conditioning.quality_values.lufs")
    assert len(loudness) == 6 and loudness["measured"].between(-70, 0).all()
    assert control.summarize(loudness, "conditioning.quality_values.lufs")["unit"] == "LUFS"


def test_rate_buckets_follow_zonos2_and_count_hits():
    """ZONOS2's buckets (bytes/s): the bucket of a delivered rate is the runner's own rule, and
    the hit rate counts outputs in the requested bucket."""
    from zonos2.config import Zonos2Config
    from zonos2.prompt import PromptOptions, speaking_rate_bucket

    assert control.RATE_BUCKETS == Zonos2Config().speaking_rate_buckets
    for rate in (3.0, 8.0, 12.5, 19.0, 27.9, 28.0, 55.0):
        options = PromptOptions(text="x", speaking_rate_enabled=True, speaking_rate=rate)
        assert control.bucket_of(rate) == speaking_rate_bucket(Zonos2Config(), options), rate
    data = pd.DataFrame({"requested": [2.0, 2.0, 5.0, 5.0], "rate": [12.0, 15.0, 22.0, 27.0],
                         "language": ["en"] * 4})
    data["measured"] = [float(control.bucket_of(r)) for r in data["rate"]]
    summary = control.summarize(data, "conditioning.speaking_rate_bucket")
    assert summary["bucket_hit_rate"] == 0.75 and summary["kind"] == "bucket"  # 15 bytes/s is bucket 3
    assert control._get({"conditioning": {"speaking_rate_bucket": 4}}, "conditioning.speaking_rate_bucket") == 4
    assert control._without({"a": 1, "conditioning": {"speaking_rate_bucket": 4, "x": 2}},
                            "conditioning.speaking_rate_bucket") == {"a": 1, "conditioning": {"x": 2}}


def test_quality_features_measure_planted_audio(samples):
    """The quality-mode sweep's measures on audio with planted truth: padding with silence shows
    as leading/trailing silence, added noise lowers the estimated SNR, a low-passed clip has a
    lower band limit, a 10 dB gain raises the loudness by 10 LU."""
    import scipy.signal

    from ztts1_eval.report import audio_features

    clip = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")
    rate, speech = clip.sample_rate, clip.samples
    base = audio_features.measure(speech, rate)
    padded = np.concatenate([np.zeros(rate), speech, np.zeros(2 * rate)]).astype(np.float32)
    moved = audio_features.measure(padded, rate)
    assert moved["leading_silence_s"] - base["leading_silence_s"] == pytest.approx(1.0, abs=0.1)
    assert moved["trailing_silence_s"] - base["trailing_silence_s"] == pytest.approx(2.0, abs=0.1)
    noisy = padded + np.random.default_rng(0).normal(0, 0.02, len(padded)).astype(np.float32)
    assert audio_features.measure(noisy, rate)["estimated_snr"] < moved["estimated_snr"] - 10
    sos = scipy.signal.butter(8, 3000, fs=rate, output="sos")
    low = audio_features.measure(scipy.signal.sosfilt(sos, speech).astype(np.float32), rate)
    assert low["estimated_bandlimit_hz"] < 3500 < base["estimated_bandlimit_hz"]
    louder = audio_features.measure((speech * 10 ** (10 / 20)).astype(np.float32), rate)
    assert louder["lufs"] - base["lufs"] == pytest.approx(10.0, abs=0.05)


def test_effect_columns_follow_the_metric_whatever_the_slot():
    columns = ["wer.wer", "wer.wer_hits", "quality_v2.utmosv2", "sim.sim", "quality.dnsmos_ovrl", "id"]
    assert control.effect_columns(columns) == ["wer.wer", "sim.sim", "quality_v2.utmosv2", "quality.dnsmos_ovrl"]
    summary = {"option": "speed", "unit": "x speed", "kind": "relative", "items": 2, "spearman": 1.0, "mae": 0.1,
               "per_setting": [{"requested": 1.0, "n": 1, "measured_median": 1.0, "measured_iqr": [1.0, 1.0],
                                "quality_v2.utmosv2": 3.214},
                               {"requested": 2.0, "n": 1, "measured_median": 1.9, "measured_iqr": [1.9, 1.9]}]}
    table = control.render(summary, "openai_speech")
    assert "| requested | n | measured median | IQR | UTMOSv2 |" in table
    assert "| 1 | 1 | 1 | 1–1 | 3.21 |" in table and "| 2 | 1 | 1.9 | 1.9–1.9 |  |" in table
