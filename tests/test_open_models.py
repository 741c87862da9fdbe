"""Open-model adapters (VoxCPM2, Qwen3-TTS) through their model workers, in the workers' own
environment (.venv-workers, `make worker-env`), on tiny random checkpoints that the tests write
in each release's file layout with the packages' own classes. These test loading, the request
and response mapping, seeding and the worker's failure handling, not speech quality."""

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import REPO, SAMPLES, make_config
from systems import registry
from systems.base import SynthesisRequest, SystemUnavailable
from ztts1_eval.pipeline import runner

NO_SCORERS = ["scorers=lite", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody"]
# Random weights make sound, not speech: the no-speech check would (rightly) fail every item.
NOT_SPEECH = ["speech_check=null"]
PROMPT = SAMPLES / "en/ljspeech_LJ001-0001.flac"
PROMPT_TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most if not "
               "from all the arts and crafts represented in the Exhibition")


def build_tiny(builder: str, out_dir, python: str):
    proc = subprocess.run([python, str(REPO / "tests" / builder), str(out_dir)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out_dir


@pytest.fixture(scope="module")
def tiny_voxcpm2(tmp_path_factory, worker_python):
    return build_tiny("tiny_voxcpm2.py", tmp_path_factory.mktemp("voxcpm2") / "VoxCPM2", worker_python)


def voxcpm2_options(model_dir, python, **extra):
    return {"model": str(model_dir), "python": python, "threads": 1,
            "generation": {"inference_timesteps": 4, "max_len": 8}, **extra}


def request(item_id: str, seed: int, text: str = "Hello, this is a small test.", language: str = "en",
            prompt_text: str | None = PROMPT_TEXT) -> SynthesisRequest:
    return SynthesisRequest(item_id, text, language, PROMPT, prompt_text, seed)


def test_voxcpm2_through_the_pipeline(tiny_voxcpm2, worker_python, tmp_path):
    summary = runner.run(make_config([
        "system=voxcpm2", f"system.options.model={tiny_voxcpm2}", f"system.options.python={worker_python}",
        "system.options.threads=1", "system.options.generation.max_len=8",
        "system.options.generation.inference_timesteps=4", "benchmark.languages=[en,zh]", "benchmark.max_items=4",
        *NO_SCORERS, f"results_dir={tmp_path / 'r'}", "progress=false", *NOT_SPEECH]))
    records = [json.loads(p.read_text()) for p in sorted((summary.run_dir / "generation").glob("*.json"))]
    assert len(records) == 4 and {r["status"] for r in records} == {"ok"}
    assert {r["sample_rate"] for r in records} == {48000}  # the audio VAE's out_sample_rate
    assert all(r["duration_s"] > 0 and r["meta"]["prompt_mode"] == "continuation" for r in records)
    described = json.loads((summary.run_dir / "system.json").read_text())
    assert described["packages"]["voxcpm"] == "2.0.3" and described["packages"]["transformers"] == "4.57.6"
    assert described["generation"]["retry_badcase"] is False and described["generation"]["max_len"] == 8
    assert described["sample_rate"] == 48000 and described["device"] == "cpu"
    assert set(described["weights_sha256"]) == {"model.safetensors", "audiovae.pth"}
    assert described["capabilities"]["seedable"] is True
    assert "resolved_path" not in described and "python" not in described  # host-specific: logged, not compared


def test_voxcpm2_seeds_prompt_modes_and_worker_failures(tiny_voxcpm2, worker_python, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_voxcpm2.parent)  # a model directory relative to where the command runs
    system = registry.create("voxcpm2", voxcpm2_options(tiny_voxcpm2.name, worker_python))
    try:
        first, again, other, no_text = system.synthesize([request("a", 1), request("a2", 1), request("b", 2),
                                                          request("c", 1, prompt_text=None)])
        assert first.status == again.status == other.status == "ok"
        assert np.array_equal(first.samples, again.samples)  # same seed, same audio
        assert not (first.samples.shape == other.samples.shape and np.array_equal(first.samples, other.samples))
        assert no_text.status == "ok" and no_text.meta["prompt_mode"] == "reference"
        # A worker that dies between items is restarted before the next one, which runs.
        system.worker.kill()
        after_crash = system.synthesize([request("d", 1)])[0]
        assert after_crash.status == "ok" and system.restarts == 1
        assert np.array_equal(after_crash.samples, first.samples)  # the same seed in a fresh worker
        # A prompt clip that is not audio fails that item only.
        bad = tmp_path / "bad.wav"
        bad.write_bytes(b"RIFF....not audio")
        broken = system.synthesize([SynthesisRequest("f", "Hello.", "en", bad, "hello", 1)])[0]
        assert broken.status == "failed" and "voxcpm2:" in broken.error
        assert system.synthesize([request("g", 1)])[0].status == "ok"
    finally:
        system.close()


def test_worker_timeouts_and_giving_up(tiny_voxcpm2, worker_python):
    system = registry.create("voxcpm2", voxcpm2_options(tiny_voxcpm2, worker_python, item_timeout_s=0.001,
                                                        max_restarts=1))
    try:
        results = system.synthesize([request("a", 1), request("b", 1), request("c", 1)])
    finally:
        system.close()
    assert [r.status for r in results] == ["failed"] * 3
    assert "no answer within" in results[0].error and "no answer within" in results[1].error
    assert "1 restarts in a row without a healthy worker; last: voxcpm2 worker: no answer within" in results[2].error


def test_voxcpm2_refuses_an_incomplete_checkpoint_and_bad_settings(tiny_voxcpm2, worker_python, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    for path in tiny_voxcpm2.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    state = load_file(str(tiny_voxcpm2 / "model.safetensors"))
    del state[sorted(state)[0]]
    save_file(state, str(broken / "model.safetensors"))
    with pytest.raises(SystemUnavailable, match="not in the checkpoint"):
        registry.create("voxcpm2", voxcpm2_options(broken, worker_python))
    with pytest.raises(SystemUnavailable, match="unknown VoxCPM2 generation settings"):
        registry.create("voxcpm2", voxcpm2_options(tiny_voxcpm2, worker_python,
                                                   generation={"temperature": 0.5}))
    with pytest.raises(SystemUnavailable, match=r"unknown settings \['optimise'\]"):
        registry.create("voxcpm2", voxcpm2_options(tiny_voxcpm2, worker_python, optimise=True))
    with pytest.raises(SystemUnavailable, match="does not exist"):
        registry.create("voxcpm2", voxcpm2_options(tmp_path / "nowhere", worker_python))


def test_missing_package_names_the_install(tmp_path):
    """This interpreter (.venv) has neither package: the message says how to get them."""
    with pytest.raises(SystemUnavailable, match=r"pip install 'voxcpm>=2.0.0'.*make worker-env"):
        registry.create("voxcpm2", {"model": str(tmp_path)})
    with pytest.raises(SystemUnavailable, match=r"pip install 'qwen-tts>=0.1.1'"):
        registry.create("qwen3_tts", {"model": str(tmp_path)})
    with pytest.raises(SystemUnavailable, match="cannot start the worker interpreter"):
        registry.create("qwen3_tts", {"model": str(tmp_path), "python": str(tmp_path / "no-python")})


@pytest.fixture(scope="module")
def tiny_qwen3(tmp_path_factory, worker_python):
    return build_tiny("tiny_qwen3_tts.py", tmp_path_factory.mktemp("qwen3") / "Qwen3-TTS-12Hz-1.7B-Base",
                      worker_python)


def test_qwen3_tts_through_the_pipeline(tiny_qwen3, worker_python, tmp_path):
    summary = runner.run(make_config([
        "system=qwen3_tts", f"system.options.model={tiny_qwen3}", f"system.options.python={worker_python}",
        "system.options.threads=1", "+system.options.generation.max_new_tokens=20", "benchmark.languages=[en,zh]",
        "benchmark.max_items=4", *NO_SCORERS, f"results_dir={tmp_path / 'r'}", "progress=false", *NOT_SPEECH]))
    records = [json.loads(p.read_text()) for p in sorted((summary.run_dir / "generation").glob("*.json"))]
    assert len(records) == 4 and {r["status"] for r in records} == {"ok"}, [r["error"] for r in records]
    assert {r["sample_rate"] for r in records} == {24000}
    names = {"en": "english", "zh": "chinese"}
    assert all(r["meta"]["language_name"] == names[r["item_id"][:2]] for r in records)
    described = json.loads((summary.run_dir / "system.json").read_text())
    assert described["packages"]["qwen-tts"] == "0.1.1" and described["packages"]["transformers"] == "4.57.6"
    # explicit settings over the checkpoint's generation_config.json over the package's defaults
    assert described["generation"]["max_new_tokens"] == 20 and described["generation"]["temperature"] == 0.9
    assert described["dtype"] == "float32" and described["device"] == "cpu"
    assert set(described["weights_sha256"]) == {"model.safetensors", "speech_tokenizer/model.safetensors"}
    assert described["capabilities"]["needs_prompt_text"] is True and described["sample_rate"] == 24000
    assert described["non_streaming_mode"] is False and described["attn_implementation"] in ("sdpa", "eager")
    assert set(described["languages"]) == {"zh", "en", "ja", "ko", "de", "fr", "ru", "pt", "es", "it"}


def test_qwen3_tts_refuses_generation_settings_it_would_drop(tiny_qwen3, worker_python):
    with pytest.raises(SystemUnavailable, match=r"unknown Qwen3-TTS generation settings \['temprature'\]"):
        registry.create("qwen3_tts", {"model": str(tiny_qwen3), "python": worker_python,
                                      "generation": {"temprature": 0.5}})


def test_fatal_device_errors_end_the_worker():
    from systems.workers.serve import is_fatal

    assert is_fatal(RuntimeError("CUDA error: an illegal memory access was encountered"))
    assert is_fatal(RuntimeError("device-side assert triggered"))
    assert not is_fatal(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not is_fatal(ValueError("Qwen3-TTS does not support language 'el'"))


def test_qwen3_tts_request_mapping_and_seeds(tiny_qwen3, worker_python):
    system = registry.create("qwen3_tts", {"model": str(tiny_qwen3), "python": worker_python, "threads": 1,
                                           "generation": {"max_new_tokens": 20}})
    try:
        assert system.capabilities.supports("ja") and not system.capabilities.supports("el")
        first, again, other, no_text, greek = system.synthesize([
            request("a", 1), request("a2", 1), request("b", 2), request("c", 1, prompt_text=None),
            request("d", 1, language="el")])
    finally:
        system.close()
    assert first.status == again.status == other.status == "ok"
    assert np.array_equal(first.samples, again.samples)
    assert not (first.samples.shape == other.samples.shape and np.array_equal(first.samples, other.samples))
    assert no_text.status == "failed" and "needs the prompt transcript" in no_text.error
    assert greek.status == "failed" and "does not support language 'el'" in greek.error


def test_which_open_models_continue_a_prompt():
    """Continuation items need the prompt audio continued: Qwen3-TTS in its in-context mode and
    VoxCPM2 (prompt clip + transcript) do; Qwen3-TTS's x-vector mode only takes a voice."""
    from systems.qwen3_tts import Qwen3TTS
    from systems.voxcpm2 import VoxCPM2

    info = {"languages": ["en"], "sample_rate": 24000}
    assert Qwen3TTS.capabilities_from(None, {**info, "x_vector_only_mode": False}).continues_prompt is True
    assert Qwen3TTS.capabilities_from(None, {**info, "x_vector_only_mode": True}).continues_prompt is False
    assert VoxCPM2.capabilities_from(None, {"sample_rate": 48000}).continues_prompt is True
