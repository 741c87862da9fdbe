"""API adapters against real HTTP servers on loopback that speak each provider's protocol:
success, retries on 429 / timeouts, a 500 that exhausts the retries, malformed audio, voice
clean-up, and the API key in no file and no log line."""

import io
import json
import logging
import time

import pytest
import soundfile as sf

from conftest import SAMPLES, make_config
from loopback import Server
from systems import registry
from systems.api.retry import ProviderError, RetryPolicy
from systems.base import SynthesisRequest, SystemUnavailable
from ztts1_eval.core import audio
from ztts1_eval.pipeline import runner
from ztts1_eval.report.model import Results

KEY = "sk-test-9f8e7d6c5b4a-SECRET"
FAST_RETRY = "{max_attempts: 3, base_delay_s: 0.01, max_delay_s: 0.05, budget: 20}"
NO_SCORERS = ["scorers=lite", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody"]


def speech_wav(rate: int = 24000, subtype: str = "PCM_16") -> bytes:
    clip = audio.resample(audio.read_checked(SAMPLES / "en/librispeech_2412-153948-0000.flac"), rate).samples[:rate]
    buffer = io.BytesIO()
    sf.write(buffer, clip, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def scripted(script: dict[str, list[str]], ok_body: bytes, content_type: str = "audio/wav"):
    """A handler answering by the request's text: each text's next behaviour in ``script``."""
    def handle(text: str):
        steps = script.get(text, ["ok"])
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if step == "429":
            return 429, {"Retry-After": "0", "Content-Type": "application/json"}, b'{"error": "rate limited"}'
        if step == "500":
            return 500, {"Content-Type": "application/json"}, b'{"error": "upstream exploded"}'
        if step == "slow":
            time.sleep(1.5)
            return 200, {"Content-Type": content_type}, ok_body
        if step == "garbage":
            return 200, {"Content-Type": content_type}, b"RIFF\x00\x00not really audio!"
        return 200, {"Content-Type": content_type}, ok_body
    return handle


def _files_text(root):
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()
                     and p.suffix in (".json", ".jsonl", ".md", ".csv", ".yaml", ".txt", ".tex", ".html", ".log"))


def test_openai_compatible_through_the_pipeline(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    config = make_config(["system=openai_speech", "benchmark.languages=[en]", "benchmark.max_items=4", *NO_SCORERS,
                          f"results_dir={tmp_path / 'r'}", "progress=false"])
    from ztts1_eval.pipeline import benchmark

    _, chosen = benchmark.load(config["benchmark"], tmp_path / "r")
    texts = [item.target_text for item in chosen]
    script = {texts[0]: ["429", "ok"], texts[1]: ["500"], texts[2]: ["slow", "ok"], texts[3]: ["garbage"]}
    server = Server()
    server.route("POST", r"/v1/audio/speech", lambda r: scripted(script, speech_wav())(r.json()["input"]))
    url = server.start()
    try:
        caplog.set_level(logging.DEBUG)
        summary = runner.run(make_config([
            "system=openai_speech", f"system.options.base_url={url}/v1", "system.options.timeout_s=0.5",
            f"system.options.retry={FAST_RETRY}", "system.options.max_concurrency=2",
            "+system.options.price={per_1k_characters: 0.015, currency: USD}",
            "benchmark.languages=[en]", "benchmark.max_items=4", *NO_SCORERS,
            f"results_dir={tmp_path / 'r'}", "progress=false"]))
    finally:
        server.stop()
    records = {i.id: json.loads((summary.run_dir / "generation" / f"{i.id}.json").read_text()) for i in chosen}
    first, second, third, fourth = (records[i.id] for i in chosen)
    assert first["status"] == "ok" and first["meta"]["attempts"] == 2 and first["meta"]["ttfb_s"] > 0
    assert first["meta"]["cost"] == pytest.approx(len(texts[0]) / 1000 * 0.015)
    assert second["status"] == "failed" and "gave up after 3 attempts: HTTP 500" in second["error"]
    assert "upstream exploded" in second["error"]
    assert third["status"] == "ok" and third["meta"]["attempts"] == 2  # timed out once
    assert fourth["status"] == "failed" and "malformed audio" in fourth["error"]
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)
    assert {r.json()["response_format"] for r in server.requests} == {"wav"}
    describe = json.loads((summary.run_dir / "system.json").read_text())
    assert describe["model"] == "gpt-4o-mini-tts" and describe["capabilities"]["clones_from_audio"] is False
    cost = json.loads((summary.run_dir / "results.json").read_text())["cost_estimate"]
    assert cost["total"] == pytest.approx((len(texts[0]) + len(texts[2])) / 1000 * 0.015) and cost["items"] == 2
    assert KEY not in _files_text(tmp_path / "r") and KEY not in caplog.text


def test_credentials_in_a_url_are_masked_wherever_recorded(tmp_path, monkeypatch, caplog):
    """``http://user:secret@host`` (a server behind basic auth): the userinfo is as secret as a key."""
    import base64

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = Server()
    server.route("POST", r"/v1/audio/speech", lambda r: (200, {"Content-Type": "audio/wav"}, speech_wav()))
    url = server.start().replace("://", "://bob:hunter2-url-secret@")
    try:
        caplog.set_level(logging.DEBUG)
        summary = runner.run(make_config([
            "system=openai_speech", f"system.options.base_url={url}/v1", "benchmark.languages=[en]",
            "benchmark.max_items=1", *NO_SCORERS, f"results_dir={tmp_path / 'r'}", "progress=false"]))
    finally:
        server.stop()
    assert summary.results.counts == {"ok": 1}
    sent = server.requests[0].headers["authorization"]  # the HTTP library used the credential
    assert sent == "Basic " + base64.b64encode(b"bob:hunter2-url-secret").decode()
    written = _files_text(tmp_path / "r")  # run.json, system.json, results.json, records, tables
    assert "hunter2-url-secret" not in written and "hunter2-url-secret" not in caplog.text
    described = json.loads((summary.run_dir / "system.json").read_text())
    assert described["base_url"].startswith("http://***redacted***@127.0.0.1")  # where it went, not who


def _blip_wav(rate: int = 24000) -> bytes:
    """185 ms of faint noise at -52 dBFS peak: what a provider returned for an emoji-only text."""
    import numpy as np

    noise = np.random.default_rng(0).uniform(-1.0, 1.0, int(0.185 * rate)).astype("float32") * 10 ** (-52 / 20)
    buffer = io.BytesIO()
    sf.write(buffer, noise, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def test_an_output_without_speech_is_a_generation_failure(tmp_path, monkeypatch):
    """Decodable, not silent by the audio check, but no speech by the VAD: failed, with the
    check recorded; the clip stays for listening. With the check off the same reply is ok."""
    import pandas as pd

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = Server()
    server.route("POST", r"/v1/audio/speech", lambda r: (200, {"Content-Type": "audio/wav"}, _blip_wav()))
    url = server.start()
    common = ["system=openai_speech", f"system.options.base_url={url}/v1", "benchmark.languages=[en]",
              "benchmark.max_items=1", *NO_SCORERS, "progress=false"]
    try:
        checked = runner.run(make_config([*common, f"results_dir={tmp_path / 'a'}"]))
        unchecked = runner.run(make_config([*common, f"results_dir={tmp_path / 'b'}", "speech_check=null"]))
    finally:
        server.stop()
    row = pd.read_parquet(checked.run_dir / "items.parquet").iloc[0]
    assert row["status"] == "failed" and checked.failure is not None  # every item failed: eval exits 3
    assert row["failure_reason"] == "no speech detected in the output (Silero VAD; 0.18 s, peak -52 dBFS)"
    assert row["output_speech_s"] == 0.0 and (checked.run_dir / row["output_wav"]).is_file()
    assert checked.results.speech_check["threshold"] == 0.5 and "silero-vad==" in checked.results.speech_check["package"]
    assert unchecked.results.counts == {"ok": 1} and unchecked.results.speech_check is None


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SystemUnavailable, match="OPENAI_API_KEY"):
        registry.create("openai_speech", {})


def test_retry_budget_is_shared_by_the_run():
    policy = RetryPolicy(max_attempts=10, base_delay_s=0.0, max_delay_s=0.0, budget=3)
    calls = []

    def always_busy():
        calls.append(1)
        raise ProviderError("HTTP 503: busy", 503, retryable=True)

    with pytest.raises(ProviderError, match="retry budget of 3 for this run exhausted"):
        policy.call(always_busy, sleep=lambda s: None)
    assert len(calls) == 4 and policy.retries_spent == 3
    with pytest.raises(ProviderError, match="exhausted after 1 attempt"):
        policy.call(always_busy, sleep=lambda s: None)  # nothing left for later items
    delays = [RetryPolicy(base_delay_s=1.0, max_delay_s=8.0).delay(a, None) for a in range(6)]
    assert all(0.5 * min(8.0, 2 ** a) <= d <= min(8.0, 2 ** a) for a, d in enumerate(delays))
    assert RetryPolicy().delay(3, 2.5) == 2.5  # Retry-After wins
    with pytest.raises(ProviderError, match="HTTP 400"):
        policy.call(lambda: (_ for _ in ()).throw(ProviderError("HTTP 400: bad", 400, retryable=False)))


def speech_pcm16(rate: int = 24000) -> bytes:
    clip = audio.resample(audio.read_checked(SAMPLES / "en/librispeech_2412-153948-0000.flac"), rate).samples[:rate]
    return (clip * 32767).astype("<i2").tobytes()


def _clone_server(provider: str, script: dict[str, list[str]]):
    """A server speaking ElevenLabs' or Cartesia's protocol as their SDKs call it."""
    server, voices = Server(), {"created": [], "deleted": []}

    def clone(request):
        assert request.headers["content-type"].startswith("multipart/form-data")
        field = b'name="files"' if provider == "elevenlabs" else b'name="clip"'
        assert field in request.body and len(request.body) > 1000  # the prompt clip itself
        voice = f"voice-{len(voices['created'])}"
        voices["created"].append(voice)
        body = {"voice_id": voice, "requires_verification": False} if provider == "elevenlabs" else {"id": voice, "name": "x"}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def delete(request):
        voices["deleted"].append(request.path.rsplit("/", 1)[1])
        if provider == "elevenlabs":
            return 200, {"Content-Type": "application/json"}, b'{"status": "ok"}'
        return 204, {}, b""

    if provider == "elevenlabs":
        server.route("POST", r"/v1/voices/add", clone)
        server.route("DELETE", r"/v1/voices/[^/]+", delete)
        server.route("POST", r"/v1/text-to-speech/[^/]+",
                     lambda r: scripted(script, speech_pcm16(), "audio/pcm")(r.json()["text"]))
    else:
        server.route("POST", r"/voices/clone", clone)
        server.route("DELETE", r"/voices/[^/]+", delete)
        server.route("POST", r"/tts/bytes",
                     lambda r: scripted(script, speech_wav(44100, "FLOAT"))(r.json()["transcript"]))
    return server, voices


@pytest.mark.parametrize("provider,env,base", [("elevenlabs", "ELEVENLABS_API_KEY", ""),
                                               ("cartesia", "CARTESIA_API_KEY", "")])
def test_cloning_adapters_through_the_pipeline(provider, env, base, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(env, KEY)
    common = [f"system={provider}", "benchmark.languages=[en]", "benchmark.max_items=5", *NO_SCORERS,
              "progress=false", f"system.options.retry={FAST_RETRY}", "system.options.timeout_s=1.0"]
    from ztts1_eval.pipeline import benchmark

    _, chosen = benchmark.load(make_config(common)["benchmark"], tmp_path / "probe")
    texts = [item.target_text for item in chosen]
    script = {texts[0]: ["429", "ok"], texts[1]: ["500"], texts[2]: ["garbage"], texts[3]: ["slow", "ok"]}
    server, voices = _clone_server(provider, script)
    url = server.start()
    try:
        caplog.set_level(logging.DEBUG)
        summary = runner.run(make_config([*common, f"system.options.base_url={url}{base}",
                                          f"results_dir={tmp_path / 'r'}"]))
    finally:
        server.stop()
    assert not server.errors, server.errors
    records = [json.loads((summary.run_dir / "generation" / f"{i.id}.json").read_text()) for i in chosen]
    assert [r["status"] for r in records] == ["ok", "failed", "failed", "ok", "ok"]
    assert records[0]["meta"]["attempts"] == 2 and "HTTP 500" in records[1]["error"]
    assert "malformed audio" in records[2]["error"]
    assert records[3]["meta"]["attempts"] == 2  # timed out once, then succeeded
    rate = 24000 if provider == "elevenlabs" else 44100
    assert all(r["sample_rate"] == rate for r in records if r["status"] == "ok")
    # One clone per distinct prompt clip, all deleted when the run closed the system.
    assert len(voices["created"]) == len({i.prompt_wav for i in chosen})
    assert sorted(voices["deleted"]) == sorted(voices["created"])
    sent = [r for r in server.requests if "voices" not in r.path]
    if provider == "elevenlabs":
        assert all(r.headers["xi-api-key"] == KEY for r in server.requests)
        assert {r.query["output_format"][0] for r in sent} == {"pcm_24000"}
        assert all(r.json()["model_id"] == "eleven_v3" and r.json()["language_code"] == "en" for r in sent)
    else:
        assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)
        assert all(r.json()["output_format"] == {"container": "wav", "encoding": "pcm_f32le", "sample_rate": 44100}
                   and r.json()["model_id"] == "sonic-3.5" for r in sent)
    assert KEY not in _files_text(tmp_path / "r") and KEY not in caplog.text


def test_keep_voices_opts_out_of_the_clean_up(tmp_path, monkeypatch):
    monkeypatch.setenv("CARTESIA_API_KEY", KEY)
    server, voices = _clone_server("cartesia", {})
    url = server.start()
    try:
        system = registry.create("cartesia", {"base_url": url, "keep_voices": True})
        prompt = SAMPLES / "en/ljspeech_LJ001-0001.flac"
        wav = tmp_path / "prompt.wav"
        sf.write(wav, audio.read_checked(prompt).samples, 22050)
        request = SynthesisRequest("a", "Hello there.", "en", wav, None, 1)
        results = system.synthesize([request, SynthesisRequest("b", "Again.", "en", wav, None, 2)])
        system.close()
    finally:
        server.stop()
    assert [r.status for r in results] == ["ok", "ok"]
    assert voices["created"] == ["voice-0"] and voices["deleted"] == []


def test_zyphra_plain_http_sends_the_prompt_with_each_request(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ZYPHRA_API_KEY", KEY)
    server = Server()
    server.route("POST", r"/v1/audio/text-to-speech", lambda r: scripted({}, speech_wav(44100))(r.json()["text"]))
    url = server.start()
    try:
        summary = runner.run(make_config(["system=zyphra", f"system.options.base_url={url}/v1",
                                          "system.options.model=zonos-2", "benchmark.languages=[en,es]",
                                          "benchmark.max_items=14", *NO_SCORERS, f"results_dir={tmp_path / 'r'}",
                                          "progress=false"]))
    finally:
        server.stop()
    frame = __import__("pandas").read_parquet(summary.run_dir / "items.parquet")
    assert set(frame.loc[frame["language"] == "en", "status"]) == {"ok"}
    assert set(frame.loc[frame["language"] == "es", "status"]) == {"unsupported"}  # not a Zyphra language code
    bodies = [r.json() for r in server.requests]
    assert all(b["model"] == "zonos-2" and b["mime_type"] == "audio/wav" and b["language_iso_code"] == "en-us"
               and len(b["speaker_audio"]) > 1000 and "seed" not in b for b in bodies)
    assert all(r.headers["x-api-key"] == KEY for r in server.requests)
    assert KEY not in _files_text(tmp_path / "r") and KEY not in caplog.text


def _run_adapter(system, env, base_url, script_for, route, tmp_path, monkeypatch, caplog, extra=()):
    """Run 5 demo items through ``system`` against a loopback server: the first item's first
    request is rate-limited, the second's all fail with 500, the third's first request outlasts
    the client timeout, the fourth gets malformed audio."""
    monkeypatch.setenv(env, KEY)
    common = [f"system={system}", "benchmark.languages=[en]", "benchmark.max_items=5", *NO_SCORERS, "progress=false",
              f"system.options.retry={FAST_RETRY}", "system.options.timeout_s=1", *extra]
    from ztts1_eval.pipeline import benchmark

    _, chosen = benchmark.load(make_config(common)["benchmark"], tmp_path / "probe")
    script = {chosen[0].target_text: ["429", "ok"], chosen[1].target_text: ["500"],
              chosen[2].target_text: ["slow", "ok"], chosen[3].target_text: ["garbage"]}
    server = Server()
    route(server, script)
    url = server.start()
    try:
        caplog.set_level(logging.DEBUG)
        summary = runner.run(make_config([*common, f"system.options.base_url={url}{base_url}",
                                          f"results_dir={tmp_path / 'r'}"]))
    finally:
        server.stop()
    assert not server.errors, server.errors
    records = [json.loads((summary.run_dir / "generation" / f"{i.id}.json").read_text()) for i in chosen]
    assert [r["status"] for r in records] == ["ok", "failed", "ok", "failed", "ok"]
    assert records[0]["meta"]["attempts"] == 2 and "HTTP 500" in records[1]["error"]
    assert records[2]["meta"]["attempts"] == 2  # timed out once, then succeeded
    assert "malformed audio" in records[3]["error"]
    assert KEY not in _files_text(tmp_path / "r") and KEY not in caplog.text
    return server, chosen, records, summary


def test_gemini_preset_voice(tmp_path, monkeypatch, caplog):
    import base64

    def route(server, script):
        def handle(request):
            body = request.json()
            assert body["generationConfig"]["responseModalities"] == ["AUDIO"]
            status, headers, payload = scripted(script, b"")(body["contents"][0]["parts"][0]["text"])
            if status != 200:
                code = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}[status]
                return status, {"Content-Type": "application/json", **({"Retry-After": "0"} if status == 429 else {})}, \
                    json.dumps({"error": {"code": status, "message": "upstream says no", "status": code}}).encode()
            audio_bytes = payload or speech_pcm16()  # a non-empty payload is the scripted garbage
            part = {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000",
                                   "data": base64.b64encode(audio_bytes).decode()}}
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"candidates": [{"content": {"parts": [part], "role": "model"}}]}).encode()
        server.route("POST", r"/v1beta/models/[^/]+:generateContent", handle)

    server, chosen, records, summary = _run_adapter("gemini", "GEMINI_API_KEY", "", None, route, tmp_path,
                                                    monkeypatch, caplog)
    assert all(r.path == "/v1beta/models/gemini-3.1-flash-tts-preview:generateContent" for r in server.requests)
    assert all(r.headers["x-goog-api-key"] == KEY for r in server.requests)
    voices = {json.dumps(r.json()["generationConfig"]["speechConfig"], sort_keys=True) for r in server.requests}
    assert len(voices) == 1 and "Kore" in voices.pop()
    assert records[0]["sample_rate"] == 24000
    describe = json.loads((summary.run_dir / "system.json").read_text())
    assert describe["capabilities"]["clones_from_audio"] is False  # Spk. sim.* in tables


def test_fish_audio_references_per_request(tmp_path, monkeypatch, caplog):
    import ormsgpack

    def route(server, script):
        def handle(request):
            assert request.headers["content-type"] == "application/msgpack" and request.headers["model"] == "s2-pro"
            body = ormsgpack.unpackb(request.body)
            assert body["format"] == "wav" and len(body["references"]) == 1
            assert len(body["references"][0]["audio"]) > 1000 and body["references"][0]["text"]
            bodies.append(body)
            return scripted(script, speech_wav(44100))(body["text"])
        server.route("POST", r"/v1/tts", handle)

    bodies = []
    server, chosen, records, summary = _run_adapter("fish_audio", "FISH_AUDIO_API_KEY", "", None, route, tmp_path,
                                                    monkeypatch, caplog, extra=["+system.options.settings.temperature=0.5"])
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)
    assert records[0]["sample_rate"] == 44100
    # what the SDK sent is what system.json records, its own defaults included
    recorded = json.loads((summary.run_dir / "system.json").read_text())["request_config"]
    assert recorded["temperature"] == 0.5 and all(b["temperature"] == 0.5 for b in bodies)
    for field in ("top_p", "normalize", "chunk_length", "repetition_penalty", "max_new_tokens"):
        assert all(b[field] == recorded[field] for b in bodies), field


def test_inworld_clone_model_and_clean_up(tmp_path, monkeypatch, caplog):
    import base64

    voices = {"created": [], "deleted": []}

    def route(server, script):
        def clone(request):
            body = request.json()
            assert body["langCode"] == "EN_US" and len(body["voiceSamples"][0]["audioData"]) > 1000
            voice = f"iw-{len(voices['created'])}"
            voices["created"].append(voice)
            return 200, {"Content-Type": "application/json"}, json.dumps({"voice": {"voiceId": voice}}).encode()

        def speak(request):
            body = request.json()
            assert body["modelId"] == "inworld-tts-2" and body["voiceId"] in voices["created"]
            assert body["audioConfig"]["audioEncoding"] == "LINEAR16" and body["audioConfig"]["sampleRateHertz"] == 48000
            bodies.append(body)
            status, headers, payload = scripted(script, speech_wav(48000))(body["text"])
            if status != 200:
                return status, headers, payload
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"audioContent": base64.b64encode(payload).decode()}).encode()

        def delete(request):
            voices["deleted"].append(request.path.rsplit("/", 1)[1])
            return 200, {"Content-Type": "application/json"}, b"{}"

        server.route("POST", r"/voices/v1/voices:clone", clone)
        server.route("POST", r"/tts/v1/voice", speak)
        server.route("DELETE", r"/voices/v1/voices/[^/]+", delete)

    bodies = []
    server, chosen, records, summary = _run_adapter("inworld", "INWORLD_API_KEY", "", None, route, tmp_path,
                                                    monkeypatch, caplog)
    sent = json.loads((summary.run_dir / "system.json").read_text())["request_settings"]
    assert sent["temperature"] == 1.0 and sent["speaking_rate"] == 1.0 and sent["model"] == "inworld-tts-2"
    assert all(b["temperature"] == sent["temperature"] and b["audioConfig"]["speakingRate"] == sent["speaking_rate"]
               for b in bodies)
    assert all(r.headers["authorization"] == f"Basic {KEY}" for r in server.requests)
    assert records[0]["sample_rate"] == 48000
    assert len(voices["created"]) == len({i.prompt_wav for i in chosen})
    assert sorted(voices["deleted"]) == sorted(voices["created"])


def test_zyphra_retries_timeouts_and_malformed_audio(tmp_path, monkeypatch, caplog):
    def route(server, script):
        server.route("POST", r"/v1/audio/text-to-speech",
                     lambda r: scripted(script, speech_wav(44100))(r.json()["text"]))

    server, _, records, _ = _run_adapter("zyphra", "ZYPHRA_API_KEY", "/v1", None, route, tmp_path, monkeypatch, caplog)
    assert all(r.headers["x-api-key"] == KEY for r in server.requests)
    assert records[0]["sample_rate"] == 44100


def _fish_speech_route(bodies):
    import ormsgpack

    def route(server, script):
        def tts(request):
            assert request.headers["content-type"] == "application/msgpack"
            body = ormsgpack.unpackb(request.body)
            bodies.append(body)
            assert body["format"] == "wav" and body["streaming"] is False and len(body["references"]) == 1
            assert len(body["references"][0]["audio"]) > 1000 and body["references"][0]["text"]
            return scripted(script, speech_wav(44100))(body["text"])
        server.route("GET", r"/v1/health", lambda r: (200, {"Content-Type": "application/json"}, b'{"status":"ok"}'))
        server.route("POST", r"/v1/tts", tts)
    return route


def test_fish_speech_local_server_seeded_references(tmp_path, monkeypatch, caplog):
    """Open-weights S2 Pro on a self-hosted fish-speech server: its msgpack protocol, a seed per
    item, the sampling settings written out, and the optional key as a bearer token."""
    bodies = []
    server, chosen, records, summary = _run_adapter(
        "fish_speech", "FISH_SPEECH_API_KEY", "", None, _fish_speech_route(bodies), tmp_path, monkeypatch, caplog,
        extra=["+system.options.settings.temperature=0.7"])
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)
    seeds = {b["text"]: b["seed"] for b in bodies}
    assert seeds[chosen[0].target_text] != seeds[chosen[4].target_text]
    assert all(b["temperature"] == 0.7 and b["top_p"] == 0.8 and b["normalize"] is True for b in bodies)
    describe = json.loads((summary.run_dir / "system.json").read_text())
    assert describe["request_settings"]["temperature"] == 0.7 and describe["capabilities"]["seedable"] is True
    assert records[0]["sample_rate"] == 44100


def test_fish_speech_runs_without_a_key_and_fails_fast_without_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("FISH_SPEECH_API_KEY", raising=False)
    bodies = []
    server = Server()
    _fish_speech_route(bodies)(server, {})
    url = server.start()
    try:
        system = registry.create("fish_speech", {"base_url": url})
        wav = tmp_path / "prompt.wav"
        sf.write(wav, audio.read_checked(SAMPLES / "en/ljspeech_LJ001-0001.flac").samples, 22050)
        result = system.synthesize([SynthesisRequest("a", "Hello there.", "en", wav, "Printing, in the only sense", 7)])[0]
        system.close()
    finally:
        server.stop()
    assert result.status == "ok" and bodies[0]["seed"] == 7
    assert all("authorization" not in r.headers for r in server.requests)
    with pytest.raises(SystemUnavailable, match="no fish-speech server answers"):
        registry.create("fish_speech", {"base_url": url})  # stopped


def test_settings_that_would_change_the_wire_format_are_refused(monkeypatch):
    monkeypatch.setenv("INWORLD_API_KEY", KEY)
    monkeypatch.setenv("FISH_AUDIO_API_KEY", KEY)
    for bad in ({"encoding": "MP3"}, {"sample_rate": 16000}, {"output_file": "x.mp3"}, {"temprature": 1.0}):
        with pytest.raises(SystemUnavailable, match="unknown or fixed"):
            registry.create("inworld", {"settings": bad})
    with pytest.raises(SystemUnavailable, match="unknown settings"):
        registry.create("fish_audio", {"settings": {"temprature": 0.5}})
    with pytest.raises(SystemUnavailable, match="invalid settings"):
        registry.create("fish_audio", {"settings": {"temperature": "hot"}})


def test_elevenlabs_preset_voice_is_set_beside_the_reports_preset_similarity(tmp_path, monkeypatch, shared_cache):
    """The report ran ElevenLabs with a preset voice ("Spk. sim.*"): `voice` does the same, and
    only then is our similarity set beside the published one; a cloned run's is "not comparable"."""
    import copy

    from data_fixtures import write_fleurs_r
    from ztts1_eval.report import tables
    from ztts1_eval.data import cli as data_cli

    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    fleurs = write_fleurs_r(tmp_path / "fleurs-r", {"en_us": 6})
    data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'data'}", f"source={fleurs}", "locales={en_us: en}",
                                   "per_language=2"], None, False)
    server, voices = _clone_server("elevenlabs", {})
    url = server.start()
    try:
        summary = runner.run(make_config([
            "benchmark=ztts1_clean", f"benchmark.data_root={tmp_path / 'data'}", "system=elevenlabs",
            "system.options.voice=preset-JBFqnCBsd6RMkjVDRZzb", f"system.options.base_url={url}",
            "scorers=lite", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.prosody",
            f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}", "progress=false"]))
    finally:
        server.stop()
    assert not server.errors, server.errors
    assert voices["created"] == []  # nothing cloned
    assert {r.path.rsplit("/", 1)[1] for r in server.requests} == {"preset-JBFqnCBsd6RMkjVDRZzb"}
    described = summary.results.system.describe
    assert described["mode"] == "preset voice" and described["capabilities"]["clones_from_audio"] is False
    assert "n/a, preset voice" in (summary.run_dir / "table.md").read_text()  # shown as in the paper, unranked
    vs = (summary.run_dir / "table_vs_paper.md").read_text()
    line = next(l for l in vs.splitlines() if "Spk. sim." in l)
    assert "not comparable" not in line and "(other scorer)" in line  # a delta: preset beside preset
    # The same numbers from a cloning run: never a delta against the report's preset similarity.
    record = copy.deepcopy(summary.results.record)
    record["system"]["describe"]["capabilities"]["clones_from_audio"] = True
    cloned = Results.from_record(record, summary.run_dir)
    markdown, csv_text = tables.render_vs_paper(tables.build_table([cloned]))
    line = next(l for l in markdown.splitlines() if "Spk. sim." in l)
    assert "not comparable" in line and "(other scorer)" not in line
