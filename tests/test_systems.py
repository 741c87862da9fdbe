"""Real engines: flite and espeak-ng from Debian, Piper from its wheel."""

from pathlib import Path

import numpy as np
import pytest

from systems import registry
from systems.base import SynthesisRequest, SystemUnavailable


def _request(text: str, language: str = "en", item_id: str = "x") -> SynthesisRequest:
    return SynthesisRequest(item_id=item_id, text=text, language=language, prompt_wav=None, prompt_text=None, seed=1)


@pytest.mark.parametrize("name", ["flite", "espeak", "piper"])
def test_engines_speak_english(name):
    system = registry.create(name)
    [result] = system.synthesize([_request("The quick brown fox jumps over the lazy dog.")])
    assert result.status == "ok", result.error
    assert result.sample_rate == system.capabilities.native_sample_rate
    seconds = len(result.samples) / result.sample_rate
    assert 1.0 < seconds < 6.0
    assert np.abs(result.samples.astype(np.float32)).max() > 1000  # int16 speech, not silence
    assert result.latency_s is not None and result.latency_s > 0
    assert system.describe()["name"] == name


def test_piper_describe_records_voice_checksum():
    info = registry.create("piper").describe()
    assert info["voice_file"] == "en_US-joe-medium.onnx"
    assert len(info["voice_sha256"]) == 64
    assert info["capabilities"]["languages"] == ["en"]


def test_shell_metacharacters_are_spoken_not_run(tmp_path):
    marker = tmp_path / "pwned"
    [result] = registry.create("espeak").synthesize([_request(f"-x; touch {marker}; $(touch {marker})")])
    assert result.status == "ok" and not marker.exists()


def test_capabilities_declare_languages():
    assert registry.create("flite").capabilities.supports("en")
    assert not registry.create("flite").capabilities.supports("de")
    espeak = registry.create("espeak").capabilities
    assert espeak.supports("zh") and espeak.supports("de") and not espeak.supports("ja")


def test_ground_truth_returns_the_recording(samples):
    system = registry.create("ground_truth")
    gt = samples / "en/ljspeech_LJ001-0004.flac"
    ok, missing = system.synthesize([
        SynthesisRequest("a", "t", "en", prompt_wav=None, prompt_text=None, seed=0, gt_wav=gt),
        SynthesisRequest("b", "t", "en", prompt_wav=None, prompt_text=None, seed=0, gt_wav=None),
    ])
    assert ok.status == "ok" and ok.sample_rate == 22050 and len(ok.samples) == 113309
    assert missing.status == "failed" and "no ground-truth recording" in missing.error


def test_bad_option_and_unknown_system_fail_clearly():
    with pytest.raises(ValueError, match="flite voice 'nobody'"):
        registry.create("flite", {"voice": "nobody"})
    with pytest.raises(KeyError, match="unknown system 'nope'; known systems"):
        registry.create("nope")
    with pytest.raises(SystemUnavailable, match="piper: voice file not found"):
        registry.create("piper", {"voice_path": "/nonexistent/voice.onnx"})
    with pytest.raises(SystemUnavailable, match="voice cloning needs system.options.speaker_encoder"):
        registry.create("zonos2")
    # a class of one's own needs no registry entry: "module:Class" is imported as written
    assert type(registry.create("systems.espeak:Espeak", {"words_per_minute": 120})).__name__ == "Espeak"
    with pytest.raises(ModuleNotFoundError):
        registry.create("no_such_module:Thing")


def test_missing_binary_names_the_debian_package(monkeypatch):
    monkeypatch.setenv("PATH", str(Path("/nonexistent")))
    with pytest.raises(SystemUnavailable, match="apt-get install flite"):
        registry.create("flite")
