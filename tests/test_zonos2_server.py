"""`python -m zonos2 serve` on a tiny random checkpoint + tiny DAC, over loopback: concurrent
streaming clients get exactly what each request gives decoded alone, overload answers 429, a
client that disconnects frees its row, bad input answers 400, shutdown refuses waiting requests."""

import http.client
import math
import json
import socket
import threading
import time

import numpy as np
import pytest

from zonos2 import random_checkpoint
from zonos2.api import Conditioning, Zonos2TTS
from zonos2.engine import Engine
from zonos2.sampler import SamplingParams

pytest.importorskip("fastapi", reason="the zonos2 extra installs fastapi and uvicorn")  # always installed by make setup
CFG = random_checkpoint.tiny_config()
PLAIN = Conditioning(text_normalization=False)


@pytest.fixture(scope="module")
def tts(tmp_path_factory):
    root = tmp_path_factory.mktemp("zonos2-server")
    random_checkpoint.write(root / "ckpt", CFG, seed=0)
    random_checkpoint.write_tiny_dac(root / "dac")
    return Zonos2TTS.from_pretrained(root / "ckpt", vocoder=str(root / "dac"), device="cpu", dtype="float32")


class Served:
    def __init__(self, tts, slots, max_queue, voices=None, **options):
        import uvicorn

        from zonos2.server import Service, create_app

        self.service = Service(tts, slots=slots, max_queue=max_queue, voices=voices, **options)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.service), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            assert time.time() < deadline, "server did not start"
            time.sleep(0.02)

    def post(self, path, body, read=True, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", path, body=json.dumps(body) if not isinstance(body, bytes) else body,
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        if not read:
            return conn, response
        data = response.read()
        conn.close()
        return response, data

    def get(self, path, headers=None, status=200):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        assert response.status == status
        data = json.loads(response.read())
        conn.close()
        return data

    def close(self):
        self.server.should_exit = True
        self.thread.join(20)


def _int16(audio):
    return (np.clip(audio, -1, 1) * 32767).round().astype("<i2")


def _request(text, seed, frames=40, **extra):
    return {"model": "zonos2", "input": text, "seed": seed, "max_tokens": frames, "text_normalization": False,
            "stream": True, "response_format": "pcm", **extra}


def test_concurrent_streams_equal_each_request_alone(tts):
    served = Served(tts, slots=4, max_queue=8)
    try:
        texts = [("one short line", 1), ("another, somewhat longer line of text", 2), ("third", 3)]
        results = {}

        def run(text, seed):
            response, data = served.post("/v1/audio/speech", _request(text, seed))
            results[seed] = (response.status, response.getheader("X-Sample-Rate"), data)

        threads = [threading.Thread(target=run, args=item) for item in texts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for text, seed in texts:
            status, rate, data = results[seed]
            assert status == 200 and rate == str(tts.sample_rate)
            alone = tts.generate(text, conditioning=PLAIN, params=SamplingParams(seed=seed, max_frames=40))[0]
            assert np.array_equal(np.frombuffer(data, "<i2"), _int16(alone)), text  # OpenAI's pcm: 16-bit
        assert served.service.engine.steps < 3 * 40  # the three shared decode steps
        response, data = served.post("/v1/audio/speech", _request("one short line", 1, stream=False,
                                                                   response_format="wav"))
        import io

        import soundfile as sf

        wav, rate = sf.read(io.BytesIO(data), dtype="float32")
        assert response.status == 200 and rate == tts.sample_rate
        assert np.array_equal(_int16(wav), np.frombuffer(results[1][2], "<i2"))  # same audio, not streamed
        official, data = served.post("/tts/generate", {"text": "third", "seed": 3, "max_tokens": 40,
                                                       "text_normalization": False, "repetition_window": 0,
                                                       "repetition_penalty": 1.0})
        assert official.status == 200 and official.getheader("X-Audio-Format") == "float32"
        expected = tts.generate("third", conditioning=PLAIN, params=SamplingParams(
            seed=3, max_frames=40, repetition_window=0, repetition_penalty=1.0))[0]
        assert np.array_equal(np.frombuffer(data, "<f4"), expected)
        assert served.get("/v1/models")["data"][0]["id"] == "zonos2"
        # the load test measures our server like any OpenAI-compatible one (PCM sized by its headers),
        # asking as vLLM-omni clients do: stream_format=audio streams raw bytes, max_new_tokens caps
        from ztts1_eval.serving.load import request_fields, run_level, shared_fields

        capped = 3 * 20 * 512 / 44100  # three measured requests of at most 20 frames
        level = run_level(f"http://127.0.0.1:{served.port}/v1/audio/speech", ["one", "two", "three", "four"], 2,
                          {**shared_fields("openai", "tts-1", "alloy", "pcm", True, max_new_tokens=20),
                           "text_normalization": False, "seed": 1}, {}, warmup=1)
        assert level["ok"] == 3 and 0 < level["audio_s_per_s"] * level["wall_s"] <= capped + 1e-6
        assert 0 < level["ttfa_s"]["p50"] <= level["latency_s"]["p50"]
        # and by the official server's protocol (its route, its fields, float32 sized by X-Audio-*)
        official = run_level(f"http://127.0.0.1:{served.port}/tts/generate",
                             [{**request_fields("zonos2", text), "text_normalization": False}
                              for text in ("one", "two", "three", "four")], 2,
                             shared_fields("zonos2", "", "", "", True, max_new_tokens=20), {}, warmup=1)
        assert official["ok"] == 3 and 0 < official["audio_s_per_s"] * official["wall_s"] <= capped + 1e-6
    finally:
        served.close()


def test_overload_disconnect_and_bad_input(tts):
    served = Served(tts, slots=1, max_queue=1)
    try:
        long = _request("a long running request", 5, frames=400)
        conn_a, response_a = served.post("/v1/audio/speech", long, read=False)
        assert response_a.status == 200 and response_a.read(64)  # running, audio flowing
        waiting = {}
        thread_b = threading.Thread(target=lambda: waiting.update(
            b=served.post("/v1/audio/speech", _request("queued", 6, frames=30))))
        thread_b.start()
        deadline = time.time() + 20
        while served.get("/health")["waiting"] < 1:
            assert time.time() < deadline
            time.sleep(0.02)
        response_c, data_c = served.post("/v1/audio/speech", _request("rejected", 7))
        assert response_c.status == 429 and response_c.getheader("Retry-After") == "1"
        assert json.loads(data_c)["error"]["type"] == "overloaded"
        conn_a.close()  # the client goes away: its row is freed and the queued request runs
        thread_b.join(60)
        response_b, data_b = waiting["b"]
        assert response_b.status == 200
        assert np.array_equal(np.frombuffer(data_b, "<i2"), _int16(tts.generate(
            "queued", conditioning=PLAIN, params=SamplingParams(seed=6, max_frames=30))[0]))
        for body, message in (({"input": ""}, "non-empty"), (b"{not json", "not JSON"),
                              ({"input": "x", "response_format": "mp3"}, "response_format"),
                              ({"input": "x", "ref_audio": "AAAA"}, "speaker encoder"),
                              ({"input": "x", "seed": "1"}, "seed"), ({"input": "x", "max_tokens": 0}, "max_tokens"),
                              ({"input": "x", "stream_format": "sse"}, "not sse"),
                              ({"input": "x", "speaker_embedding_base64": "file:///etc/passwd"}, "does not fetch")):
            response, data = served.post("/v1/audio/speech", body)
            assert response.status == 400 and message in json.loads(data)["error"]["message"], body
        health = served.get("/health")
        assert health["status"] == "ok" and health["running"] == 0 and health["waiting"] == 0
    finally:
        served.close()


def test_shutdown_finishes_running_and_refuses_waiting(tts):
    engine = Engine(tts.model, slots=1, max_queue=4)
    [first, second] = tts.requests_for(["first", "second"], None, PLAIN,
                                       [SamplingParams(seed=1, max_frames=30), SamplingParams(seed=2, max_frames=30)])
    a = engine.submit(first)
    b = engine.submit(second)
    engine.start()
    deadline = time.time() + 20
    while engine.busy == 0:  # the first request is running
        assert time.time() < deadline
        time.sleep(0.01)
    engine.stop()
    pieces = list(a.iter_pieces())
    assert pieces[-1][1] is True and a.stop_reason in ("eos", "max_frames")
    with pytest.raises(RuntimeError, match="shut down before this request started"):
        list(b.iter_pieces())


def _npy_base64(array):
    import base64
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return base64.b64encode(buf.getvalue()).decode()


def test_saved_voices_sessions_and_blends(tts, tmp_path):
    import torch

    from zonos2.speaker import load_saved_embedding
    from zonos2.voices import VoiceStore, slerp

    gen = np.random.default_rng(0)
    a, b = (gen.standard_normal(CFG.speaker_embedding_dim).astype(np.float32) for _ in range(2))
    np.save(tmp_path / "Narrator.npy", a)
    (tmp_path / "notes.txt").write_text("not a voice")
    voices = VoiceStore.from_dir(tmp_path, None, lambda path: load_saved_embedding(path, CFG.speaker_embedding_dim))
    served = Served(tts, slots=2, max_queue=4, voices=voices)
    session = {"X-TTS-Session-ID": "session-1"}

    def audio(headers=None, **speaker):
        response, data = served.post("/tts/generate", {"text": "a saved voice", "seed": 3, "max_tokens": 14,
                                                        "text_normalization": False, "stream": False, **speaker},
                                     headers=headers)
        assert response.status == 200, data
        return data

    try:
        [default] = served.get("/tts/speakers")["speakers"]
        assert default["id"].startswith("default_") and len(default["id"]) == len("default_") + 16
        assert (default["label"], default["source_type"], default["has_preview"]) == ("Narrator", "embedding", False)
        response, data = served.post("/tts/speakers", {"label": "B", "speaker_embedding_base64": _npy_base64(b)},
                                     headers=session)
        saved = json.loads(data)
        assert response.status == 200 and saved["id"].startswith("spk_") and saved["dimension"] == 2048
        assert [v["id"] for v in served.get("/tts/speakers", session)["speakers"]] == [default["id"], saved["id"]]
        assert len(served.get("/tts/speakers", {"X-TTS-Session-ID": "other"})["speakers"]) == 1

        by_id = audio(session, speaker_embedding_id=saved["id"])
        assert by_id == audio(speaker_embedding_base64=_npy_base64(b))  # the same embedding, the same audio
        assert audio(speaker_embedding_id=default["id"]) == audio(speaker_embedding_base64=_npy_base64(a))
        blend = audio(session, speaker_blend_embedding_id_a=default["id"], speaker_blend_embedding_id_b=saved["id"],
                      speaker_blend_t=0.5)
        mixed = slerp(torch.from_numpy(a), torch.from_numpy(b), 0.5).numpy()
        assert blend == audio(speaker_embedding_base64=_npy_base64(mixed)) and blend != by_id

        for path, body, headers, message in [
            ("/tts/speakers", {"speaker_embedding_base64": _npy_base64(b)}, None, "X-TTS-Session-ID"),
            ("/tts/speakers", {"speaker_embedding_base64": _npy_base64(b[:7])}, session, "2048 values"),
            ("/tts/generate", {"text": "x", "speaker_embedding_id": saved["id"]}, None, "X-TTS-Session-ID header"),
            ("/tts/generate", {"text": "x", "speaker_embedding_id": "spk_000000000000"}, session, "unknown"),
            ("/tts/generate", {"text": "x", "speaker_embedding_id": saved["id"],
                               "speaker_embedding_base64": _npy_base64(b)}, session, "at most one speaker"),
            ("/tts/generate", {"text": "x", "speaker_blend_embedding_id_a": saved["id"]}, session, "needs"),
            ("/tts/generate", {"text": "x", "speaker_blend_embedding_id_a": saved["id"], "speaker_blend_t": 2,
                               "speaker_blend_embedding_id_b": default["id"]}, session, "within [0, 1]"),
        ]:
            response, data = served.post(path, body, headers=headers)
            assert response.status == 400 and message in json.loads(data)["error"]["message"], (body, data)
        assert "no preview" in served.get(f"/tts/speakers/{saved['id']}/preview", session, 404)["error"]["message"]
        served.get(f"/tts/speakers/{saved['id']}/preview", None, 404)  # another session's voice is not found
    finally:
        served.close()


def test_slerp_follows_the_arc():
    import torch

    from zonos2.voices import slerp

    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    mid = slerp(a, b / 2, 1 / 3)  # unit vectors: a third of the way along the quarter circle
    assert abs(math.atan2(float(mid[1]), float(mid[0])) - math.pi / 6) < 1e-6 and abs(float(mid.norm()) - 1) < 1e-6
    torch.testing.assert_close(slerp(a, 3 * a, 0.5), 2 * a)  # parallel: linear


def test_reference_audio_in_the_shapes_serving_engines_send(tmp_path, samples):
    """vLLM-omni's ref_audio (base64, data URL), sglang-omni's references[] (data + media_type,
    ref_audio, a server-local audio_path) and file:// all clone the same speaker; local files only
    under --allowed-local-media-path."""
    import base64

    import soundfile as sf

    from tiny_speaker_encoder import write_tiny_encoder

    random_checkpoint.write(tmp_path / "ckpt", CFG, seed=0)
    random_checkpoint.write_tiny_dac(tmp_path / "dac")
    cloning = Zonos2TTS.from_pretrained(tmp_path / "ckpt", vocoder=str(tmp_path / "dac"), device="cpu",
                                        dtype="float32", speaker_encoder=str(write_tiny_encoder(tmp_path / "spk")),
                                        speaker_encoder_trust_remote_code=True)
    media = tmp_path / "media"
    media.mkdir()
    samples_, rate = sf.read(samples / "en/ljspeech_LJ001-0004.flac", dtype="float32")
    sf.write(media / "ref.wav", samples_[: rate * 2], rate)
    sf.write(tmp_path / "outside.wav", samples_[: rate * 2], rate)
    b64 = base64.b64encode((media / "ref.wav").read_bytes()).decode()
    base = {"input": "a cloned voice", "seed": 2, "max_tokens": 12, "text_normalization": False,
            "response_format": "pcm"}  # WAV files carry a write time (libsndfile's PEAK chunk)
    served = Served(cloning, slots=2, max_queue=4, allowed_media_dir=media)
    try:
        def post(**speaker):
            response, data = served.post("/v1/audio/speech", {**base, **speaker})
            return response.status, data

        status, expected = post(ref_audio=b64)
        assert status == 200 and expected != post()[1]  # a cloned voice, not the unconditioned one
        for shape in ({"ref_audio": f"data:audio/wav;base64,{b64}", "ref_text": "ignored"},
                      {"references": [{"data": b64, "media_type": "audio/wav", "text": "ignored"}]},
                      {"references": [{"ref_audio": f"data:audio/wav;base64,{b64}"}]},
                      {"references": [{"audio_path": str(media / "ref.wav")}]},
                      {"ref_audio": f"file://{media / 'ref.wav'}"}):
            assert post(**shape) == (200, expected), shape
        for shape, message in (({"references": [{"audio_path": str(tmp_path / "outside.wav")}]}, "outside the allowed"),
                               ({"references": [{"audio_path": str(media / "../outside.wav")}]}, "outside the allowed"),
                               ({"references": [{"data": b64}, {"data": b64}]}, "list of one"),
                               ({"references": [{"vq_codes": [1, 2]}]}, "not codec tokens"),
                               ({"references": [{"data": b64, "audio_path": "x"}]}, "exactly one of"),
                               ({"references": [{"data": b64}], "ref_audio": b64}, "at most one speaker"),
                               ({"ref_audio": "https://example.com/a.wav"}, "does not fetch")):
            status, data = post(**shape)
            assert status == 400 and message in json.loads(data)["error"]["message"], (shape, data)
    finally:
        served.close()
    closed = Served(cloning, slots=1, max_queue=2)  # no --allowed-local-media-path: no local file is read
    try:
        response, data = closed.post("/v1/audio/speech", {**base, "references": [{"audio_path": str(media / "ref.wav")}]})
        assert response.status == 400 and "--allowed-local-media-path" in json.loads(data)["error"]["message"]
    finally:
        closed.close()
