"""ReDimNet: our implementation against the official one, the scorer's loading path, and failures.

tests/data/redimnet_official/ was written by scripts/redimnet_reference.py with the OFFICIAL
IDRnD code (torch + torchaudio, outside this project): tiny random models in the release file
format plus their embeddings of two real 16 kHz clips.
"""

import json
import shutil

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from conftest import REPO, make_config
from ztts1_eval.core import audio
from ztts1_eval.pipeline import runner
from ztts1_eval.models.redimnet import ReDimNetEncoder
from ztts1_eval.models.redimnet_features import MelBanks
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable
from ztts1_eval.scorers.redimnet_sim import load_encoder

FIXTURES = REPO / "tests/data/redimnet_official"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
CASES = [(name, clip) for name, clips in REFERENCE["embeddings"].items() for clip in clips]


def _clip(samples, key):
    spec = REFERENCE["clips"][key]
    wav, rate = sf.read(samples / spec["file"], dtype="float32")
    assert rate == 16000
    return wav[: spec["samples"]] if spec["samples"] else wav


@pytest.mark.parametrize("name,clip", CASES)
def test_embeddings_match_the_official_implementation(name, clip, samples):
    model, _ = load_encoder(FIXTURES / f"{name}.pt")  # strict key matching inside
    with torch.no_grad():
        ours = model(torch.from_numpy(_clip(samples, clip))[None])[0].numpy()
    official = np.asarray(REFERENCE["embeddings"][name][clip], dtype=np.float32)
    np.testing.assert_allclose(ours, official, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("name", list(REFERENCE["embeddings"]))
def test_front_end_buffers_we_build_equal_the_official_ones(name):
    """Our own construction (used for checkpoints we write) reproduces the official window,
    mel matrix and DFT kernels, so the features are right even before weights are loaded."""
    blob = torch.load(FIXTURES / f"{name}.pt", weights_only=True)
    ours = ReDimNetEncoder(**blob["model_config"]).state_dict()
    assert set(ours) == set(blob["state_dict"])
    front_end = [k for k in ours if k.startswith("spec.") and not k.endswith("num_batches_tracked")]
    assert front_end, "every release front end stores its buffers"
    for key in front_end:
        np.testing.assert_allclose(ours[key].numpy(), blob["state_dict"][key].numpy(), atol=2e-6, err_msg=key)


def test_mel_front_end_matches_librosa(samples):
    wav = _clip(samples, "aishell_S0724_0121")
    bank = MelBanks(n_mels=72, do_preemph=True)
    with torch.no_grad():
        ours = bank.torchfbank(torch.from_numpy(wav)[None])[0].numpy()
    emphasized = np.concatenate([[wav[0] - 0.97 * wav[1]], wav[1:] - 0.97 * wav[:-1]]).astype(np.float32)
    expected = librosa.feature.melspectrogram(y=emphasized, sr=16000, n_fft=512, win_length=400, hop_length=160,
                                              window="hamming", center=True, pad_mode="reflect", power=2.0,
                                              n_mels=72, fmin=20, fmax=7600, htk=True, norm=None)
    assert ours.shape == expected.shape == (72, wav.size // 160 + 1)
    np.testing.assert_allclose(ours, expected, rtol=2e-3, atol=1e-6 * expected.max())


@pytest.fixture()
def models_dir(tmp_path, monkeypatch):
    """A user's model directory holding a release-named file (a tiny official-format model)."""
    monkeypatch.setenv("ZTTS1_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (tmp_path / "models/redimnet").mkdir(parents=True)
    shutil.copy(FIXTURES / "pt_att_astp.pt", tmp_path / "models/redimnet/b0-vox2-ptn.pt")
    return tmp_path / "models"


def test_scorer_finds_a_release_name_and_scores_real_audio(models_dir, samples):
    scorer = registry.create("redimnet", {"checkpoint": "b0-vox2-ptn.pt"})
    ident = scorer.identity()
    assert ident["model"] == "IDRnD/ReDimNet b0-vox2-ptn.pt" and len(ident["model_sha256"]) == 64
    assert ident["release_url"].endswith("/latest/b0-vox2-ptn.pt") and ident["dtype"] == "float32"
    scorer.load()
    a = audio.resample(audio.read_checked(samples / "en/librispeech_2412-153948-0000.flac"), 16000)
    b = audio.resample(audio.read_checked(samples / "en/librispeech_2412-153948-0001.flac"), 16000)
    short = audio.Audio(a.samples[:800], 16000)
    out = scorer.score([ScoreInput("same", "en", a, reference=a), ScoreInput("other", "en", b, reference=a),
                        ScoreInput("swap", "en", a, reference=b), ScoreInput("short", "en", short, reference=a)])
    assert out[0].values["sim"] == pytest.approx(100.0, abs=1e-4)
    assert out[1].values["sim"] == pytest.approx(out[2].values["sim"], abs=1e-4)  # symmetric
    assert -100.0 <= out[1].values["sim"] < 100.0 - 1e-3  # another clip is not the same embedding
    assert out[3].status == "failed" and "too short" in out[3].reason
    scorer.close()


def test_missing_checkpoint_names_the_file_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("redimnet")
    message = str(err.value)
    assert "M-vb2+vox2+cnc-ft_mix.pt" in message and "HF_HUB_OFFLINE" in message
    assert "https://github.com/IDRnD/ReDimNet/releases/download/latest/M-vb2%2Bvox2%2Bcnc-ft_mix.pt" in message
    assert str(tmp_path / "torch/hub/checkpoints") in message
    with pytest.raises(ScorerUnavailable, match="does not exist"):
        registry.create("redimnet", {"checkpoint": str(tmp_path / "nowhere.pt")})


def test_pinned_checksum_and_broken_files_are_refused(models_dir, tmp_path):
    with pytest.raises(ScorerUnavailable, match="SHA-256 .* the config pins 0000"):
        registry.create("redimnet", {"checkpoint": "b0-vox2-ptn.pt", "sha256": "0000"})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((FIXTURES / "pt_att_astp.pt").read_bytes()[:5000])
    with pytest.raises(ScorerUnavailable, match="cannot read .* complete download"):
        load_encoder(truncated)
    blob = torch.load(FIXTURES / "pt_att_astp.pt", weights_only=True)
    del blob["state_dict"]["backbone.stage1.5.tcm.1.attention.q_proj.weight"]
    torch.save(blob, tmp_path / "missing_key.pt")
    with pytest.raises(ScorerUnavailable, match="missing .*stage1.5.tcm.1.attention.q_proj.weight"):
        load_encoder(tmp_path / "missing_key.pt")
    torch.save(blob["state_dict"], tmp_path / "bare_state_dict.pt")
    with pytest.raises(ScorerUnavailable, match="expected a dict with 'model_config' and 'state_dict'"):
        load_encoder(tmp_path / "bare_state_dict.pt")


def test_redimnet_runs_in_the_pipeline(models_dir, tmp_path, shared_cache):
    summary = runner.run(make_config([
        "system=ground_truth", "scorers=paper", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.prosody",
        "~scorers.run.diversity",
        "scorers.run.sim.checkpoint=b0-vox2-ptn.pt",
        "benchmark.ids=[en-ljspeech_LJ001-0004,en-librispeech_2412-153948-0000]",  # prompts other than the target
        f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}", "progress=false"]))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert (items["sim_status"] == "ok").all()
    assert items["sim.sim"].between(-100, 100).all()
    assert summary.results.scorers["sim"].identity["type"] == "redimnet"
