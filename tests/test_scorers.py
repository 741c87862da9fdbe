"""The lite scorers on real speech, with negative controls."""

import multiprocessing
import time

import numpy as np
import pytest

from systems import registry as systems
from systems.base import SynthesisRequest
from ztts1_eval.core import audio
from ztts1_eval.core.deadline import Timeout, deadline
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput


@pytest.fixture(scope="module")
def sim():
    scorer = registry.create("resemblyzer_sim")
    scorer.load()
    return scorer


@pytest.fixture(scope="module")
def dnsmos():
    scorer = registry.create("dnsmos")
    scorer.load()
    return scorer


@pytest.fixture(scope="module")
def asr():
    scorer = registry.create("pocketsphinx_wer", {"workers": 2})
    scorer.load()
    yield scorer
    scorer.close()


def _clip(samples, name: str, rate: int = 16000) -> audio.Audio:
    return audio.resample(audio.read_checked(samples / name), rate)


def _sim(scorer, a: audio.Audio, b: audio.Audio) -> float:
    [out] = scorer.score([ScoreInput("x", "en", a, reference=b)])
    assert out.status == "ok", out.reason
    return out.values["sim"]


def test_same_speaker_scores_higher_than_different_speaker(samples, sim):
    lj1 = _clip(samples, "en/ljspeech_LJ001-0001.flac")
    lj4 = _clip(samples, "en/ljspeech_LJ001-0004.flac")
    jfk = _clip(samples, "en/jfk_inaugural_1961.flac")
    libri0 = _clip(samples, "en/librispeech_2412-153948-0000.flac")
    libri1 = _clip(samples, "en/librispeech_2412-153948-0001.flac")
    same_lj, same_libri = _sim(sim, lj1, lj4), _sim(sim, libri0, libri1)
    different = _sim(sim, lj1, jfk)
    assert same_lj > 70 and same_libri > 70
    assert different < same_lj - 15
    assert _sim(sim, lj1, lj1) == pytest.approx(100.0, abs=1e-3)


def test_dnsmos_real_speech_vs_white_noise(samples, dnsmos):
    rng = np.random.default_rng(0)
    noise = audio.Audio(np.clip(rng.normal(0, 0.3, 16000 * 5), -1, 1).astype(np.float32), 16000)
    speech, noisy = dnsmos.score([
        ScoreInput("s", "en", _clip(samples, "en/ljspeech_LJ001-0001.flac")),
        ScoreInput("n", "en", noise),
    ])
    assert speech.values["dnsmos_ovrl"] > 2.5
    assert noisy.values["dnsmos_ovrl"] < 1.5
    assert speech.values["dnsmos_ovrl"] - noisy.values["dnsmos_ovrl"] > 1.0
    # Deterministic: the same clip scores the same twice.
    again = dnsmos.score([ScoreInput("s", "en", _clip(samples, "en/ljspeech_LJ001-0001.flac"))])[0]
    assert again.values == speech.values


def test_pocketsphinx_transcribes_real_english(samples, asr):
    [out] = asr.score([ScoreInput("lj", "en", _clip(samples, "en/ljspeech_LJ001-0004.flac"),
                                  text="produced the block books, which were the immediate predecessors of the true printed book,")])
    assert out.status == "ok"
    assert out.values["wer"] < 0.3
    assert "predecessors" in out.values["asr_hypothesis"]
    assert out.values["wer_ref_norm"].startswith("produced the block books which")
    assert out.values["wer_errors"] == out.values["wer_substitutions"] + out.values["wer_deletions"] + out.values["wer_insertions"]


def test_pocketsphinx_on_wrong_text_scores_high_error(samples, asr):
    [out] = asr.score([ScoreInput("lj", "en", _clip(samples, "en/ljspeech_LJ001-0004.flac"),
                                  text="television reports show white smoke coming from the plant")])
    assert out.values["wer"] > 0.8


def test_flite_speech_is_intelligible_to_pocketsphinx(asr):
    text = "Television reports show white smoke coming from the plant."
    [result] = systems.create("flite").synthesize([SynthesisRequest("t", text, "en", None, None, 0)])
    clip = audio.resample(audio.Audio(result.samples.astype(np.float32) / 32768, result.sample_rate), 16000)
    [out] = asr.score([ScoreInput("t", "en", clip, text=text)])
    assert out.values["wer"] < 0.4


def test_identity_names_model_and_checksum(asr, sim, dnsmos):
    for scorer in (asr, sim, dnsmos):
        ident = scorer.identity()
        assert ident["model"] and ident["package"] and ident["model_sha256"]
        assert scorer.identity_hash() == scorer.identity_hash()
    assert asr.identity()["normalizer"] == {"name": "seedtts_eval", "version": "1"}
    assert registry.create("dnsmos", {"personalized": True}).identity_hash() != dnsmos.identity_hash()
    assert not asr.info.supports("de") and "no offline ASR" in asr.info.unsupported_reason


def test_asr_hypotheses_do_not_depend_on_scoring_order_or_workers(samples, asr):
    a = ScoreInput("a", "en", _clip(samples, "en/fleurs_en_003.ogg"), text="the cabbage juice changes color")
    b = ScoreInput("b", "en", _clip(samples, "en/jfk_inaugural_1961.flac"), text="and so my fellow americans")
    in_process = registry.create("pocketsphinx_wer", {"workers": 1})
    first = in_process.score([a, b])
    second = asr.score([b, a])  # two worker processes
    assert first[0].values == second[1].values and first[1].values == second[0].values
    assert "my fellow" in first[1].values["asr_hypothesis"]
    with pytest.raises(ValueError, match="workers must be at least 1"):
        registry.create("pocketsphinx_wer", {"workers": 0})


def test_asr_time_limit_stops_the_workers_and_the_next_batch_runs(samples):
    """A batch over its time limit must not leave decoders running (they would hold the CPUs
    while the pipeline scores the rest item by item)."""
    speech = _clip(samples, "en/jfk_inaugural_1961.flac")
    long = audio.Audio(np.tile(speech.samples, 6)[:59 * speech.sample_rate], speech.sample_rate)
    others = set(multiprocessing.active_children())  # e.g. the module's scorer's workers
    scorer = registry.create("pocketsphinx_wer", {"workers": 2})
    scorer.load()
    assert len(set(multiprocessing.active_children()) - others) == 2
    try:
        start = time.perf_counter()
        with pytest.raises(Timeout), deadline(1.0):
            scorer.score([ScoreInput("long", "en", long, text="x"), ScoreInput("again", "en", long, text="x")])
        assert time.perf_counter() - start < 5  # decoding the clip takes ~20 s
        assert set(multiprocessing.active_children()) <= others
        short = audio.Audio(speech.samples[:3 * speech.sample_rate], speech.sample_rate)
        [out] = scorer.score([ScoreInput("short", "en", short, text="and so my fellow americans")])
        assert out.status == "ok" and "my fellow" in out.values["asr_hypothesis"]
    finally:
        scorer.close()
    assert set(multiprocessing.active_children()) <= others
