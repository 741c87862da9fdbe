"""`ztts1-eval speed` against a loopback OpenAI-compatible server with scripted timing: the
measured time to first audio, latency, throughput and audio seconds must be the scripted truth."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from loopback import Server
from ztts1_eval.serving import load

FIRST, REST = 0.08, 0.12  # seconds before the first audio chunk, then before the rest
PCM_SECONDS = 0.5


def _server() -> Server:
    pcm = np.zeros(int(load.PCM_RATE * PCM_SECONDS), "<i2").tobytes()
    server = Server()

    def speech(request):
        body = request.json()
        if not body.get("input"):
            return 400, {"Content-Type": "application/json"}, b'{"error": "empty input"}'
        half = len(pcm) // 2
        return 200, {"Content-Type": "audio/pcm"}, [(FIRST, pcm[:half]), (REST, pcm[half:])]

    server.route("POST", r"/v1/audio/speech", speech)
    return server


def test_measured_numbers_are_the_scripted_truth():
    server = _server()
    url = server.start() + "/v1/audio/speech"
    try:
        payload = {"model": "tts-1", "voice": "alloy", "response_format": "pcm", "stream": True}
        one = load.run_level(url, ["hello"] * 5, 1, payload, {}, warmup=1)
        four = load.run_level(url, ["hello"] * 9, 4, payload, {}, warmup=1)
        bad = load.run_level(url, ["", "x"], 1, payload, {}, warmup=0)
    finally:
        server.stop()
    assert one["ok"] == 4 and one["requests"] == 4 and one["warmup_excluded"] == 1
    assert one["ttfa_s"]["p50"] == pytest.approx(FIRST, abs=0.01)
    assert one["latency_s"]["p50"] == pytest.approx(FIRST + REST, abs=0.015)
    assert one["rtf_mean"] == pytest.approx((FIRST + REST) / PCM_SECONDS, abs=0.04)
    assert one["requests_per_s"] == pytest.approx(1 / (FIRST + REST), rel=0.1)
    # four closed-loop clients: four times the throughput, the same per-request times
    assert four["ok"] == 8 and four["requests_per_s"] == pytest.approx(4 / (FIRST + REST), rel=0.2)
    assert four["ttfa_s"]["p50"] == pytest.approx(FIRST, abs=0.02)
    assert four["audio_s_per_s"] == pytest.approx(four["requests_per_s"] * PCM_SECONDS, rel=1e-6)
    assert bad["ok"] == 1 and bad["requests"] == 2 and "HTTP 400" in bad["errors"][0]


def test_cli_writes_the_table(tmp_path):
    server = _server()
    base = server.start()
    try:
        out = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--url", base, "--requests", "4",
                              "--concurrency", "1,2", "--format", "pcm", "--max-new-tokens", "2048",
                              "--out", str(tmp_path / "speed")], cwd=REPO, capture_output=True, text=True, timeout=120)
        refused = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--url", base, "--max-new-tokens", "0"],
                                 cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert refused.returncode != 0 and "positive frame cap" in refused.stderr
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| 1 clients | 4 / 4 |" in out.stdout and "| 2 clients | 4 / 4 |" in out.stdout
    stored = json.loads((tmp_path / "speed.json").read_text())
    assert [level["concurrency"] for level in stored["levels"]] == [1, 2] and stored["label"].endswith("/v1/audio/speech")
    assert (tmp_path / "latency_vs_throughput.png").stat().st_size > 5000
    assert stored["payload"]["stream"] is True and stored["payload"]["stream_format"] == "audio"  # raw bytes, not SSE
    assert stored["url"].endswith("/v1/audio/speech")
    assert stored["payload"]["max_new_tokens"] == 2048  # sglang-omni's benchmark cap, as it names it


def test_pcm_is_sized_by_each_servers_headers():
    second = b"\x00" * 44100 * 2  # one second of 16-bit mono at 44.1 kHz
    assert load._audio_seconds(second, "pcm", {"x-sample-rate": "44100", "x-bit-depth": "16",
                                               "x-channels": "1"}) == pytest.approx(1.0)  # sglang-omni, ours
    assert load._audio_seconds(second, "pcm", {"x-audio-format": "float32", "x-audio-sample-rate": "44100",
                                               "x-audio-channels": "1"}) == pytest.approx(0.5)  # official ZONOS2
    assert load._audio_seconds(second, "pcm", {}) == pytest.approx(44100 / 24000)  # OpenAI: 24 kHz 16-bit


def test_clone_sends_each_items_prompt(tmp_path, samples):
    import base64

    from ztts1_eval.pipeline import manifest

    items = [manifest.Item("a", "demo", "en", "en/ljspeech_LJ001-0004.flac", "first target", prompt_text="the prompt"),
             manifest.Item("b", "demo", "en", "en/fleurs_sonar_1.wav", "second target")]
    manifest.write(tmp_path / "m.jsonl", items)
    server = _server()
    base = server.start()
    try:
        out = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--url", base, "--requests", "2",
                              "--concurrency", "1", "--warmup", "0", "--format", "pcm", "--manifest",
                              str(tmp_path / "m.jsonl"), "--data-root", str(samples), "--clone",
                              "--out", str(tmp_path / "speed")], cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr[-2000:]
    sent = sorted((r.json() for r in server.requests), key=lambda body: body["input"])
    assert [body["input"] for body in sent] == ["first target", "second target"]
    assert sent[0]["ref_text"] == "the prompt" and "ref_text" not in sent[1]
    kind, data = sent[0]["ref_audio"].split(",", 1)
    assert kind == "data:audio/flac;base64"
    assert base64.b64decode(data) == (samples / "en/ljspeech_LJ001-0004.flac").read_bytes()
    assert json.loads((tmp_path / "speed.json").read_text())["cloning"] == "each manifest item's prompt"
    refused = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--url", base, "--clone"],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "--clone needs --manifest" in refused.stderr


def test_the_official_zonos2_protocol(tmp_path, samples):
    """--protocol zonos2: POST /tts/generate with text (and speaker_audio_base64 to clone); the
    float32 answer is sized by its X-Audio-* headers."""
    import base64

    from ztts1_eval.pipeline import manifest

    seconds = 0.25
    pcm = np.zeros(int(44100 * seconds), "<f4").tobytes()
    server = Server()
    server.route("POST", r"/tts/generate", lambda request: (200, {
        "Content-Type": "audio/pcm", "X-Audio-Sample-Rate": "44100", "X-Audio-Channels": "1",
        "X-Audio-Format": "float32"}, [(FIRST, pcm)]))
    manifest.write(tmp_path / "m.jsonl", [manifest.Item("a", "demo", "en", "en/fleurs_sonar_1.wav", "a target")])
    base = server.start()
    try:
        out = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--url", base, "--protocol", "zonos2",
                              "--requests", "2", "--concurrency", "1", "--manifest", str(tmp_path / "m.jsonl"),
                              "--data-root", str(samples), "--clone", "--out", str(tmp_path / "speed")],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr[-2000:]
    body = server.requests[-1].json()
    assert body["text"] == "a target" and body["stream"] is True and "input" not in body
    assert base64.b64decode(body["speaker_audio_base64"]) == (samples / "en/fleurs_sonar_1.wav").read_bytes()
    stored = json.loads((tmp_path / "speed.json").read_text())
    assert stored["protocol"] == "zonos2" and stored["url"].endswith("/tts/generate")
    [level] = stored["levels"]
    assert level["ok"] == 2 and level["audio_s_per_s"] * level["wall_s"] == pytest.approx(2 * seconds, rel=1e-6)


def test_an_api_adapter_in_process_measures_the_scripted_truth(monkeypatch):
    """--system: the OpenAI adapter against a loopback server with scripted timing; TTFA is the
    adapter's own time to the first byte, and its calls run concurrently (thread-safe)."""
    from systems import registry
    from systems.base import SynthesisRequest

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server = _server()
    url = server.start()
    system = registry.create("openai_speech", {"base_url": f"{url}/v1", "response_format": "pcm"})
    requests = [SynthesisRequest(f"r{i}", "hello", "en", None, None, 0) for i in range(9)]
    try:
        one = load.run_system_level(system, requests[:5], 1, warmup=1)
        four = load.run_system_level(system, requests, 4, warmup=1)
    finally:
        system.close()
        server.stop()
    assert one["ok"] == 4 and one["serialized"] is False
    assert one["ttfa_s"]["p50"] == pytest.approx(FIRST, abs=0.02)
    assert one["latency_s"]["p50"] == pytest.approx(FIRST + REST, abs=0.03)
    assert one["audio_s_per_s"] * one["wall_s"] == pytest.approx(4 * PCM_SECONDS, rel=1e-6)
    assert four["ok"] == 8 and four["requests_per_s"] == pytest.approx(4 / (FIRST + REST), rel=0.25)


def test_cli_times_a_local_system(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--system", "flite", "--set",
                          "system.options.voice=rms", "--requests", "3", "--concurrency", "1,2",
                          "--out", str(tmp_path / "flite")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    stored = json.loads((tmp_path / "flite.json").read_text())
    assert stored["label"] == "system flite" and stored["system"]["options"]["voice"] == "rms"
    for level in stored["levels"]:
        assert level["ok"] == 3 and level["serialized"] is False and level["audio_s_per_s"] > 0
        assert level["ttfa_s"]["p50"] == level["latency_s"]["p50"]  # not streamed: the audio arrives at once
    refused = subprocess.run([sys.executable, "-m", "ztts1_eval", "speed", "--system", "no_such_system"],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "error:" in refused.stderr and "Traceback" not in refused.stderr
