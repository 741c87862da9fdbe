"""CV3-Eval's speaker encoder (3D-Speaker ERes2Net) against the official speakerlab code.

tests/data/eres2net_official/reference.json was written by scripts/eres2net_reference.py with
speakerlab's ERes2Net and FBank (torch + torchaudio, outside this project): tiny models' key
lists and the embeddings of real clips. The tests write the same checkpoints (plain state dicts,
as pretrained_eres2net.ckpt) and score through the scorer.
"""

import json

import numpy as np
import pytest
import torch

from conftest import REPO
from seeded_weights import values
from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable

REFERENCE = json.loads((REPO / "tests/data/eres2net_official/reference.json").read_text())
CASES = [(name, clip) for name in REFERENCE["models"] for clip in REFERENCE["clips"]]


def _checkpoint(path, name):
    model = REFERENCE["models"][name]
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: torch.from_numpy(v) for k, v in values(model["spec"], model["seed"]).items()}, path)
    return path


@pytest.fixture(scope="module")
def scorers(tmp_path_factory):
    root = tmp_path_factory.mktemp("eres2net")
    made = {}
    for name, model in REFERENCE["models"].items():
        scorer = registry.create("eres2net_sim", {"checkpoint": str(_checkpoint(root / f"{name}.ckpt", name)),
                                                  "model_args": model["config"], "device": "cpu"})
        scorer.load()
        made[name] = scorer
    return made


@pytest.mark.parametrize("name,clip", CASES)
def test_embeddings_match_speakerlab(name, clip, scorers, samples):
    import soundfile as sf

    data, rate = sf.read(samples / REFERENCE["clips"][clip], dtype="float32", always_2d=True)
    ours = scorers[name].embed(data[:, 0], rate)  # the script's first channel
    official = np.asarray(REFERENCE["models"][name]["embeddings"][clip])
    # 16 kHz clips: same features; resampled clips: our resampler port differs from torchaudio's
    # by float rounding (~1e-6), which the log of near-silent mel bins amplifies a little.
    np.testing.assert_allclose(ours, official, atol=1e-4 if rate == 16000 else 3e-3, rtol=0)


def test_scorer_finds_the_modelscope_layout_and_scores(tmp_path, monkeypatch, samples):
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("eres2net_sim")
    message = str(err.value)
    assert "modelscope download --model damo/speech_eres2net_sv_en_voxceleb_16k --revision v1.0.2" in message
    assert str(tmp_path / "models/speech_eres2net_sv_en_voxceleb_16k") in message
    config = REFERENCE["models"]["one_emb_layer"]["config"]
    _checkpoint(tmp_path / "models/speech_eres2net_sv_en_voxceleb_16k/pretrained_eres2net.ckpt", "one_emb_layer")
    scorer = registry.create("eres2net_sim", {"model_args": config, "device": "cpu"})
    scorer.load()
    a = audio.read_checked(samples / REFERENCE["clips"]["aishell_16k"])
    b = audio.read_checked(samples / REFERENCE["clips"]["ljspeech_22k"])
    out = scorer.score([ScoreInput("s", "zh", a, reference=a), ScoreInput("o", "en", b, reference=a),
                        ScoreInput("t", "en", audio.Audio(a.samples[:800], 16000), reference=a)])
    assert out[0].values["sim"] == pytest.approx(100.0, abs=1e-4) and out[1].values["sim"] < 100.0 - 1e-3
    assert out[2].status == "failed" and "too short" in out[2].reason
    assert scorer.identity()["model"].endswith("pretrained_eres2net.ckpt")
    with pytest.raises(ScorerUnavailable, match="does not fit ERes2Net"):
        wrong = registry.create("eres2net_sim", {"model_args": {**config, "embedding_size": 7}, "device": "cpu"})
        wrong.load()
