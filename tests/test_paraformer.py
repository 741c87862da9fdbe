"""Paraformer-zh (Seed-TTS-Eval's Chinese ASR) against the official FunASR package.

tests/data/paraformer_official/reference.json was written by scripts/paraformer_reference.py with
FunASR itself (torch + torchaudio, outside this project): the key list of a tiny SeacoParaformer,
and for real clips what ``AutoModel(...).generate`` returned plus every stage's output; and FunASR's
sentence_postprocess on token sequences. The tests write the same tiny model directory themselves
(tests/tiny_paraformer.py) and run it through the scorer.
"""

import json

import numpy as np
import pytest
import torch

from conftest import REPO
from tiny_paraformer import write_model_dir
from ztts1_eval.core import audio
from ztts1_eval.models.paraformer import sentence_postprocess
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable

REFERENCE = json.loads((REPO / "tests/data/paraformer_official/reference.json").read_text())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_model_dir(tmp_path_factory.mktemp("paraformer") / "paraformer-zh", REFERENCE["spec"],
                           REFERENCE["seed"])


@pytest.fixture(scope="module")
def scorer(model_dir):
    scorer = registry.create("paraformer_asr", {"model": str(model_dir), "device": "cpu"})
    scorer.load()
    return scorer


def _rows(array, n):
    return array[[0, 1, n // 2, -1]]


@pytest.mark.parametrize("name", list(REFERENCE["clips"]))
def test_every_stage_and_the_text_match_funasr(name, scorer, samples):
    official = REFERENCE["clips"][name]
    clip = audio.read_checked(samples / official["file"])
    feats = scorer.features(clip.samples, clip.sample_rate)
    assert list(feats.shape) == official["feats_shape"]
    # kaldi-native-fbank vs torchaudio's Kaldi fbank, through LFR and CMVN (unit-scale features)
    np.testing.assert_allclose(_rows(feats, feats.shape[0]), official["feats_rows"], atol=2e-3)
    with torch.no_grad():
        out = scorer._model(torch.from_numpy(feats)[None])
    np.testing.assert_allclose(out["encoder_out"][0].numpy(), official["encoder_out"], atol=2e-3)
    np.testing.assert_allclose(out["alphas"][0].numpy(), official["alphas"], atol=1e-4)
    assert out["token_num"] == official["token_num"]
    np.testing.assert_allclose(out["scores"][0].numpy(), official["scores"], atol=2e-3)
    assert scorer.transcribe(clip.samples, clip.sample_rate) == official["text"]


@pytest.mark.parametrize("case", REFERENCE["postprocess"], ids=lambda c: "|".join(c["tokens"]) or "empty")
def test_sentence_postprocess_matches_funasr(case):
    assert sentence_postprocess(case["tokens"], timestamps=True) == case["with_timestamps"]
    assert sentence_postprocess(case["tokens"], timestamps=False) == case["without"]


def test_scorer_records_cer_per_character_and_failures(scorer, samples):
    clip = audio.read_checked(samples / REFERENCE["clips"]["aishell_16k"]["file"])
    official = REFERENCE["clips"]["aishell_16k"]["text"]  # 'BB 了 BBBB 中 BB' from random weights
    silence = audio.Audio(np.zeros(100, dtype=np.float32), 16000)
    out = scorer.score([ScoreInput("a", "zh", clip, text="了中"), ScoreInput("b", "zh", silence, text="你好")])
    assert out[0].status == "ok" and out[0].values["asr_hypothesis"] == official
    # per character: 8 letters B besides 了 and 中 -> 8 insertions over the 2 reference characters
    assert out[0].values["wer_errors"] == 8 and out[0].values["wer_ref_units"] == 2
    assert out[1].status == "failed" and "too short" in out[1].reason
    ident = scorer.identity()
    assert ident["unused_checkpoint_keys"] > 0 and set(ident["model_sha256"]) == {
        "model.pt", "config.yaml", "tokens.json", "am.mvn"}
    assert ident["fbank"].startswith("kaldi-native-fbank==")


def test_missing_model_names_the_download(tmp_path, monkeypatch, model_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ScorerUnavailable, match="huggingface-cli download funasr/paraformer-zh"):
        registry.create("paraformer_asr", {})
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text((model_dir / "config.yaml").read_text())
    with pytest.raises(ScorerUnavailable, match="lacks .*model.pt"):
        registry.create("paraformer_asr", {"model": str(broken)})
    state = torch.load(model_dir / "model.pt", weights_only=True)
    del state["decoder.decoders.1.src_attn.linear_q.weight"]
    for name in ("config.yaml", "configuration.json", "tokens.json", "am.mvn"):
        (broken / name).write_bytes((model_dir / name).read_bytes())
    torch.save(state, broken / "model.pt")
    with pytest.raises(ScorerUnavailable, match="missing .*decoder.decoders.1.src_attn.linear_q.weight"):
        registry.create("paraformer_asr", {"model": str(broken)}).load()
