"""Seed-TTS-Eval's similarity model (WavLM + UniSpeech ECAPA-TDNN) against the official code.

tests/data/unispeech_sv_official/reference.json was written by scripts/unispeech_sv_reference.py
with the OFFICIAL seed-tts-eval/UniSpeech and s3prl code (torch + torchaudio, outside this
project): the key list of tiny official models, their embeddings and pair similarities of real
clips, and torchaudio's resampled audio. The tests write the same tiny checkpoints themselves
(tests/tiny_unispeech_sv.py) and load them through the scorer.
"""

import argparse
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import REPO
from tiny_unispeech_sv import values, write_checkpoint
from ztts1_eval.core import audio
from ztts1_eval.core.sinc_resample import resample
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable

REFERENCE = json.loads((REPO / "tests/data/unispeech_sv_official/reference.json").read_text())
LAYOUTS = list(REFERENCE["layouts"])


def _first_channel(samples, name):
    wav, rate = sf.read(samples / REFERENCE["clips"][name], dtype="float32", always_2d=True)
    return wav[:, 0], rate  # the script keeps channel 0 (wav2 path)


@pytest.mark.parametrize("name", list(REFERENCE["resampled"]))
def test_resampler_matches_torchaudio(name, samples):
    wav, rate = _first_channel(samples, name)
    expected = REFERENCE["resampled"][name]
    ours = resample(wav, rate, 16000)
    assert rate == expected["rate"] and ours.shape == (expected["length"],)
    for span, official in expected["slices"].items():
        start, stop = map(int, span.split(":"))
        np.testing.assert_allclose(ours[start:stop], official, atol=2e-6)


def _scorer(tmp_path, layout, **options):
    spec = REFERENCE["layouts"][layout]
    checkpoint = write_checkpoint(tmp_path / layout / "wavlm_large_finetune.pth", spec["spec"], spec["seed"])
    config = tmp_path / layout / "wavlm.json"
    config.write_text(json.dumps(spec["cfg"]))
    scorer = registry.create("unispeech_wavlm_ecapa", {"checkpoint": str(checkpoint), "wavlm_config": str(config),
                                                        "device": "cpu", **options})
    scorer.load()
    return scorer


@pytest.mark.parametrize("layout", LAYOUTS)
def test_embeddings_and_similarity_match_the_official_code(layout, tmp_path, samples):
    official = REFERENCE["layouts"][layout]
    assert official["hub_calls"] == ["s3prl/s3prl:wavlm_large"]  # the official model asked for this upstream
    scorer = _scorer(tmp_path, layout)
    assert scorer.identity()["ignored_checkpoint_keys"] == 1  # mask_emb: a pre-training parameter
    for name, embedding in official["embeddings"].items():
        ours = scorer.embed(*_first_channel(samples, name))
        np.testing.assert_allclose(ours, embedding, atol=1e-4, rtol=1e-4, err_msg=name)
    for pair, similarity in official["similarity"].items():
        a, b = (audio.read_checked(samples / REFERENCE["clips"][n]) for n in pair.split("|"))
        (out,) = scorer.score([ScoreInput("x", "en", a, reference=b)])
        assert out.values["sim"] == pytest.approx(100.0 * similarity, abs=1e-3), pair


def test_short_audio_fails_and_prompts_are_embedded_once(tmp_path, samples):
    scorer = _scorer(tmp_path, "large_layout")
    clip = audio.read_checked(samples / REFERENCE["clips"]["aishell_16k"])
    short = audio.Audio(clip.samples[:1000], 16000)
    out = scorer.score([ScoreInput("same", "zh", clip, reference=clip), ScoreInput("short", "zh", short, reference=clip)])
    assert out[0].values["sim"] == pytest.approx(100.0, abs=1e-4)
    assert out[1].status == "failed" and "too short" in out[1].reason
    assert len(scorer._prompt_embeddings) == 1


def test_soxr_option_is_recorded_and_close_to_the_reference(tmp_path, samples):
    scorer = _scorer(tmp_path, "large_layout", resampler="soxr")
    assert "resampled by soxr" in " ".join(scorer.identity()["differences"]) and scorer.info.native_rates == ()
    ours = scorer.embed(*_first_channel(samples, "ljspeech_0004_22k"))
    official = np.asarray(REFERENCE["layouts"]["large_layout"]["embeddings"]["ljspeech_0004_22k"])
    assert np.abs(ours - official).max() < 0.05  # another resampler: close, not equal


def test_missing_checkpoint_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("unispeech_wavlm_ecapa")
    message = str(err.value)
    assert "wavlm_large_finetune.pth not found" in message and str(tmp_path / "models/unispeech") in message
    assert "gdown 1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP" in message and "scorers.run.sim.checkpoint" in message


def test_bad_checkpoints_are_refused_with_the_reason(tmp_path):
    spec = REFERENCE["layouts"]["large_layout"]
    config = tmp_path / "wavlm.json"
    config.write_text(json.dumps(spec["cfg"]))
    good = write_checkpoint(tmp_path / "good.pth", spec["spec"], spec["seed"])

    def load(path, **options):
        scorer = registry.create("unispeech_wavlm_ecapa", {"checkpoint": str(path), "wavlm_config": str(config),
                                                            "device": "cpu", **options})
        scorer.load()
        return scorer

    with pytest.raises(ScorerUnavailable, match="SHA-256 .* the config pins 00ff"):
        load(good, sha256="00ff")
    state = {k: torch.from_numpy(v) for k, v in values(spec["spec"], spec["seed"]).items()}
    del state["feature_extract.model.encoder.layers.1.fc2.weight"]
    torch.save({"model": state}, tmp_path / "missing.pth")
    with pytest.raises(ScorerUnavailable, match=r"lacks 1 parameters.*wavlm\.encoder\.layers\.1\.feed_forward"):
        load(tmp_path / "missing.pth")
    torch.save(state, tmp_path / "bare.pth")
    with pytest.raises(ScorerUnavailable, match="expected a dict with a 'model' state dict"):
        load(tmp_path / "bare.pth")
    (tmp_path / "truncated.pth").write_bytes(good.read_bytes()[:4000])
    with pytest.raises(ScorerUnavailable, match="complete download"):
        load(tmp_path / "truncated.pth")
    wider = dict(spec["cfg"], encoder_embed_dim=64)
    with pytest.raises(ScorerUnavailable, match="shapes do not match the WavLM config"):
        load(good, wavlm_config=wider)
    # A training checkpoint with Python objects besides tensors: refused unless trusted.
    blob = torch.load(good, weights_only=True)
    torch.save({**blob, "args": argparse.Namespace(lr=0.001)}, tmp_path / "pickled.pth")
    with pytest.raises(ScorerUnavailable, match="trust_pickle=true"):
        load(tmp_path / "pickled.pth")
    assert load(tmp_path / "pickled.pth", trust_pickle=True).identity()["ignored_checkpoint_keys"] == 1
