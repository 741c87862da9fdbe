"""MSR-UTMOS scorer: release-format backbone snapshot (custom code) + Lightning MOS checkpoint,
loaded through the user's path, scoring real audio at its native rates; failures that name
what to fetch."""

import shutil

import numpy as np
import pytest
import torch

from tiny_msr_utmos import N_LISTENERS, backbone_module, write_backbone, write_checkpoint
from ztts1_eval.core import audio
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("msr-utmos")
    backbone = write_backbone(root / "sfi_backbone")
    return backbone, write_checkpoint(root / "model.ckpt", backbone)


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def _expected_mos(checkpoint, backbone_dir, samples, rate, listeners):
    """The paper's formula, computed here from the raw tensors (numpy head)."""
    blob = torch.load(checkpoint, weights_only=True)
    state = blob["state_dict"]
    module = backbone_module(backbone_dir)
    model = module.TinySfiModel(module.TinySfiConfig(hidden_size=state["listenr_embedding.weight"].shape[1]))
    model.load_state_dict({k[len("ssl_model."):]: v for k, v in state.items() if k.startswith("ssl_model.")})
    model.eval().set_sample_rate(rate)
    with torch.no_grad():
        h = model(input_values=torch.from_numpy(samples)[None]).last_hidden_state[0].double().numpy()
    s = {k: v.double().numpy() for k, v in state.items()}
    ys = []
    for listener in listeners:
        x = h + s["listenr_embedding.weight"][listener]
        z = x @ s["pred_liner.0.weight"].T + s["pred_liner.0.bias"]
        z = z / (1 + np.exp(-z))  # SiLU
        ys.append(np.tanh((z @ s["pred_liner.2.weight"].T + s["pred_liner.2.bias"]).mean()))
    return 2 * np.mean(ys) + 3


def test_scores_real_audio_at_native_rates(tiny, samples):
    backbone, checkpoint = tiny
    scorer = registry.create("msr_utmos", {"checkpoint": str(checkpoint), "trust_remote_code": True})
    ident = scorer.identity()
    assert ident["backbone"] == str(backbone) and ident["listeners"] == list(range(1, 11))
    assert set(ident["backbone_sha256"]) == {"model.safetensors", "modeling_tiny_sfi.py"}
    assert len(ident["checkpoint_sha256"]) == 64 and ident["dtype"] == "float32"
    scorer.load()
    lj = audio.read_checked(samples / "en/ljspeech_LJ001-0004.flac")  # 22.05 kHz -> 24 kHz
    assert scorer.info.rate_for(lj.sample_rate) == 24000
    assert scorer.info.rate_for(44100) == 48000 and scorer.info.rate_for(8000) == 16000
    assert scorer.info.rate_for(20000) == 24000  # a tie goes up
    clips = {24000: audio.resample(lj, 24000),
             16000: audio.read_checked(samples / "zh/aishell_BAC009S0724W0121.wav"),
             48000: audio.resample(audio.read_checked(samples / "en/jfk_inaugural_1961.flac"), 48000)}
    outputs = scorer.score([ScoreInput(str(rate), "en", clip) for rate, clip in clips.items()])
    for (rate, clip), out in zip(clips.items(), outputs):
        assert out.status == "ok" and out.values["utmos_rate"] == rate
        expected = _expected_mos(checkpoint, backbone, clip.samples, rate, range(1, 11))
        assert out.values["utmos"] == pytest.approx(expected, abs=1e-5)
        assert 1.0 <= out.values["utmos"] <= 5.0
    # The fine-tuned backbone in the checkpoint is what runs, not the snapshot's own weights.
    again = scorer.score([ScoreInput("again", "en", clips[16000])])
    assert again[0].values == outputs[1].values  # deterministic
    short = scorer.score([ScoreInput("short", "en", audio.Audio(clips[16000].samples[:800], 16000))])
    assert short[0].status == "failed" and "too short" in short[0].reason


def test_listener_choice_changes_the_identity_and_the_score(tiny, samples):
    backbone, checkpoint = tiny
    clip = audio.read_checked(samples / "zh/aishell_BAC009S0724W0121.wav")
    one = registry.create("msr_utmos", {"checkpoint": str(checkpoint), "trust_remote_code": True, "listeners": [3]})
    default = registry.create("msr_utmos", {"checkpoint": str(checkpoint), "trust_remote_code": True})
    assert one.identity_hash() != default.identity_hash()
    one.load()
    value = one.score([ScoreInput("x", "zh", clip)])[0].values["utmos"]
    assert value == pytest.approx(_expected_mos(checkpoint, backbone, clip.samples, 16000, [3]), abs=1e-5)
    with pytest.raises(ScorerUnavailable, match="listener ids"):
        registry.create("msr_utmos", {"checkpoint": str(checkpoint), "trust_remote_code": True,
                                      "listeners": [N_LISTENERS]})


def test_legacy_single_linear_head_loads(tiny, tmp_path, samples):
    backbone, _ = tiny
    legacy = write_checkpoint(tmp_path / "legacy.ckpt", backbone, legacy_head=True)
    scorer = registry.create("msr_utmos", {"checkpoint": str(legacy), "trust_remote_code": True})
    scorer.load()
    out = scorer.score([ScoreInput("x", "zh", audio.read_checked(samples / "zh/aishell_BAC009S0724W0121.wav"))])
    assert out[0].status == "ok" and 1.0 <= out[0].values["utmos"] <= 5.0


def test_failures_name_what_to_fetch_or_allow(tiny, tmp_path):
    backbone, checkpoint = tiny
    with pytest.raises(ScorerUnavailable) as err:
        registry.create("msr_utmos", {"trust_remote_code": True})
    assert "model.ckpt of sarulab-speech/MSR-UTMOS" in str(err.value)
    assert "huggingface-cli download sarulab-speech/MSR-UTMOS model.ckpt --repo-type space" in str(err.value)
    with pytest.raises(ScorerUnavailable, match="pin scorers.run.quality.backbone_revision to a commit hash .*"
                                                "trust_remote_code=true"):
        registry.create("msr_utmos", {"checkpoint": str(checkpoint)})
    # A hub snapshot of a pinned commit: that commit's code runs without the opt-in, and says so.
    commit = "3f2a" + "0" * 36
    pinned = tmp_path / "models--Wataru--sfi_hubert_distill_ears" / "snapshots" / commit
    shutil.copytree(backbone, pinned)
    scorer = registry.create("msr_utmos", {"checkpoint": str(checkpoint), "backbone": str(pinned),
                                           "backbone_revision": commit})
    assert scorer.identity()["remote_code"] == f"pinned commit {commit}"
    with pytest.raises(ScorerUnavailable, match="trust_remote_code=true"):  # a branch name is not a pin
        registry.create("msr_utmos", {"checkpoint": str(checkpoint), "backbone": str(pinned),
                                      "backbone_revision": "main"})
    opted_in = registry.create("msr_utmos", {"checkpoint": str(checkpoint), "trust_remote_code": True})
    assert opted_in.identity()["remote_code"].startswith("trust_remote_code: true (revision not pinned")
    hub_named = write_checkpoint(tmp_path / "hub.ckpt", backbone, backbone_name="Wataru/sfi_hubert_distill_ears")
    with pytest.raises(ScorerUnavailable, match="Wataru/sfi_hubert_distill_ears .*huggingface-cli download"):
        registry.create("msr_utmos", {"checkpoint": str(hub_named), "trust_remote_code": True})
    # A checkpoint that needs full unpickling is refused unless the user trusts it.
    blob = torch.load(checkpoint, weights_only=True)
    blob["hyper_parameters"]["odd"] = np.float64(1.0)  # numpy scalars are not allowed by weights_only
    torch.save(blob, tmp_path / "pickled.ckpt")
    with pytest.raises(ScorerUnavailable, match="trust_pickle=true"):
        registry.create("msr_utmos", {"checkpoint": str(tmp_path / "pickled.ckpt"), "trust_remote_code": True})
    assert registry.create("msr_utmos", {"checkpoint": str(tmp_path / "pickled.ckpt"), "trust_remote_code": True,
                                         "trust_pickle": True}).trust_pickle
    # A backbone key the snapshot's model does not have: strict matching stops the load.
    blob = torch.load(checkpoint, weights_only=True)
    blob["state_dict"]["ssl_model.extra.weight"] = torch.zeros(2)
    torch.save(blob, tmp_path / "mismatch.ckpt")
    scorer = registry.create("msr_utmos", {"checkpoint": str(tmp_path / "mismatch.ckpt"), "trust_remote_code": True})
    with pytest.raises(ScorerUnavailable, match="unexpected .*extra.weight"):
        scorer.load()
