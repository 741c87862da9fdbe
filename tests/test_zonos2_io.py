"""ZONOS2 end to end on a tiny checkpoint + tiny DAC: API, streaming, CLI, system adapters,
and the official-server adapter against a loopback server speaking /tts/generate."""

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from conftest import REPO, make_config
from systems import registry as systems
from systems.base import SynthesisRequest, SystemUnavailable
from zonos2 import random_checkpoint
from zonos2.api import Conditioning, Zonos2TTS
from zonos2.checkpoint import CheckpointError
from zonos2.sampler import SamplingParams
from zonos2.speaker import SpeakerError, load_saved_embedding, log_mel
from zonos2.vocoder import DacVocoder, VocoderError
from ztts1_eval.pipeline import runner

CFG = random_checkpoint.tiny_config()


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("zonos2-assets")
    random_checkpoint.write(root / "ckpt", CFG, seed=0)
    random_checkpoint.write_tiny_dac(root / "dac")
    (root / "spk").mkdir()
    rng = np.random.default_rng(0)
    return root, rng


@pytest.fixture(scope="module")
def tts(assets):
    root, _ = assets
    return Zonos2TTS.from_pretrained(root / "ckpt", vocoder=str(root / "dac"), device="cpu", dtype="float32")


def test_generate_and_stream_match(tts, assets, tmp_path):
    """generate() decodes as the server does (the chunked stream, concatenated), so it equals
    stream() exactly; one_shot differs only around the chunk seams."""
    np.save(tmp_path / "spk.npy", np.ones(2048, np.float32))
    raw = Conditioning(text_normalization=False)
    params = SamplingParams(seed=3, max_frames=70, ignore_eos=True)
    [result] = tts.generate_codes(["Streaming equals one shot"], [str(tmp_path / "spk.npy")], raw, params)
    chunked, one_shot = tts.decode(result), tts.decode(result, "one_shot")
    chunks = list(tts.stream("Streaming equals one shot", str(tmp_path / "spk.npy"), raw, params=params))
    assert len(chunks) >= 3 and chunks[0].size == (16 - 4) * 512  # first chunk holds back 4 frames
    streamed = np.concatenate(chunks)
    assert streamed.shape == chunked.shape == one_shot.shape == (70 * 512,)  # no EOS: every frame kept
    np.testing.assert_array_equal(streamed, chunked)
    diff = np.abs(chunked - one_shot)
    hop, away = 512, np.ones(len(one_shot), bool)
    for seam in range(16, 70, 16):  # the crossfades span the 4 context frames before each seam
        away[(seam - 4) * hop - 2 * hop:(seam + 1) * hop] = False
    away[(62 - 4) * hop:] = False  # the final chunk re-decodes from frame 58 with other right context
    assert diff[away].max() < 1e-6 * max(1.0, np.abs(one_shot).max() * 1e3)
    assert diff.max() < 0.05 * np.abs(one_shot).max()
    # With the end-of-audio rule on, the stream stops where generate() cuts.
    params = SamplingParams(seed=3, max_frames=70)
    [cut] = tts.generate("Streaming equals one shot", [str(tmp_path / "spk.npy")], raw, params=params)
    streamed = np.concatenate(list(tts.stream("Streaming equals one shot", str(tmp_path / "spk.npy"), raw, params=params)))
    np.testing.assert_array_equal(streamed, cut)


def test_crossfade_window_is_the_servers():
    from zonos2.vocoder import crossfade_window

    w = crossfade_window(2048)
    assert w[0] == 0.0 and w[-1] == 1.0 and w.dtype == np.float32
    k = np.arange(2048)
    np.testing.assert_allclose(w, 0.5 * (1 - np.cos(np.pi * k / 2047)), atol=1e-7)


def test_speaker_sources(tts, tmp_path):
    np.savez(tmp_path / "a.npz", emb=np.ones((3, 2048), np.float32))
    assert torch.equal(load_saved_embedding(tmp_path / "a.npz"), torch.ones(2048))
    np.save(tmp_path / "bad.npy", np.ones(100, np.float32))
    with pytest.raises(SpeakerError, match="2048 values"):
        tts.speaker_embedding(str(tmp_path / "bad.npy"))
    with pytest.raises(ValueError, match="needs the speaker encoder"):
        tts.speaker_embedding(str(REPO / "README.md"))
    wave = (0.5 * np.sin(np.arange(24000) / 10) + 0.01 * np.random.default_rng(1).standard_normal(24000)).astype(np.float32)
    mel = log_mel(wave)
    assert mel.shape == (1, (24000 + 2 * 384 - 1024) // 256 + 1, 128)
    assert float(mel.min()) >= np.log(1e-5) - 1e-6
    import librosa  # an independent route to the same front end

    padded = np.pad(wave, 384, mode="reflect")
    expected = librosa.feature.melspectrogram(y=padded, sr=24000, n_fft=1024, hop_length=256, win_length=1024,
                                              window="hann", center=False, power=1.0, n_mels=128, fmin=0, fmax=12000,
                                              htk=False, norm="slaney")
    np.testing.assert_allclose(mel[0].numpy(), np.log(np.maximum(expected, 1e-5)).T, atol=2e-3)


def test_bad_vocoder_inputs(tts, tmp_path):
    with pytest.raises(VocoderError, match="clamp"):
        tts.vocoder.decode(np.full((4, 9), 1024))
    with pytest.raises(VocoderError, match="DAC weights not found"):
        DacVocoder.from_pretrained(str(tmp_path / "nope"))


def test_cli_synthesizes_a_wav(assets, tmp_path):
    root, _ = assets
    np.save(tmp_path / "spk.npy", np.ones(2048, np.float32))
    out = subprocess.run([sys.executable, "-m", "zonos2", "synthesize", "--text", "Hello from the CLI",
                          "--speaker", str(tmp_path / "spk.npy"), "--checkpoint", str(root / "ckpt"),
                          "--vocoder", str(root / "dac"), "--device", "cpu", "--dtype", "float32", "--seed", "1",
                          "--max-frames", "40", "--ignore-eos", "--no-normalize-text", "--out", str(tmp_path / "o.wav")], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    audio, rate = sf.read(tmp_path / "o.wav")
    assert rate == 44100 and len(audio) == 40 * 512
    bad = subprocess.run([sys.executable, "-m", "zonos2", "synthesize", "--text", "x", "--checkpoint", str(tmp_path / "none"),
                          "--out", str(tmp_path / "x.wav")], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2 and "not found" in bad.stderr


def test_adapter_runs_in_the_pipeline(assets, tmp_path, samples):
    root, _ = assets
    embeddings = tmp_path / "emb"
    embeddings.mkdir()
    for stem in ("fleurs_en_003", "fleurs_en_004"):
        np.save(embeddings / f"{stem}.npy", np.random.default_rng(len(stem)).standard_normal(2048).astype(np.float32))
    overrides = ["system=zonos2", "benchmark.ids=[en-fleurs_en_003,en-fleurs_en_004,en-fleurs_en_005]",
                 f"system.options.checkpoint={root / 'ckpt'}", f"system.options.vocoder={root / 'dac'}",
                 f"system.options.speaker_embeddings_dir={embeddings}", "system.options.device=cpu",
                 "system.options.dtype=float32", "system.options.sampling.max_frames=40",
                 "+system.options.sampling.ignore_eos=true",
                 "system.options.conditioning.text_normalization=false",  # NeMo is tested on its own
                 "speech_check=null",  # random weights make sound, not speech
                 "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", f"results_dir={tmp_path / 'r'}",
                 "progress=false"]
    summary = runner.run(make_config(overrides))
    items = pd.read_parquet(summary.run_dir / "items.parquet").set_index("id")
    assert items.loc["en-fleurs_en_003", "status"] == "ok" and items.loc["en-fleurs_en_003", "sample_rate"] == 44100
    assert items.loc["en-fleurs_en_003", "duration_s"] == pytest.approx(40 * 512 / 44100)
    assert items.loc["en-fleurs_en_005", "status"] == "failed"  # no embedding for its prompt
    assert "speaker embedding file not found" in items.loc["en-fleurs_en_005", "failure_reason"]
    described = json.loads((summary.run_dir / "system.json").read_text())
    assert described["model"]["params_sha256"] and described["sampling"]["top_k"] == 106
    assert described["model"]["cpu_kernels"] == "torch"  # fp32: nothing for oneDNN to pack
    again = runner.run(make_config(overrides))  # seeded: rerun reuses, a fresh dir reproduces
    assert again.generation["reused"] == 2
    fresh = runner.run(make_config([*overrides[:-2], f"results_dir={tmp_path / 'r2'}", "progress=false"]))
    assert (pd.read_parquet(fresh.run_dir / "items.parquet")["output_sha256"].tolist()
            == items.reset_index()["output_sha256"].tolist())


def test_quality_mode_sweep_through_control(assets, tmp_path):
    """A ZONOS2 quality-conditioning sweep is two ordinary runs; `control` measures the feature
    asked for on each output (random weights obey nothing: this checks the path, not the model)."""
    from ztts1_eval.report import control

    root, _ = assets
    embeddings = tmp_path / "emb"
    embeddings.mkdir()
    np.save(embeddings / "fleurs_en_003.npy", np.ones(2048, np.float32))
    base = ["system=zonos2", "benchmark.ids=[en-fleurs_en_003]", f"system.options.checkpoint={root / 'ckpt'}",
            f"system.options.vocoder={root / 'dac'}", f"system.options.speaker_embeddings_dir={embeddings}",
            "system.options.device=cpu", "system.options.dtype=float32", "system.options.sampling.max_frames=60",
            "+system.options.sampling.ignore_eos=true", "system.options.conditioning.text_normalization=false",
            "speech_check=null", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody",
            f"results_dir={tmp_path / 'r'}", "progress=false"]
    for lufs in (-30, -20):  # loudness: measurable on any sound of 0.4 s or more (silences need speech)
        runner.run(make_config([*base, f"+system.options.conditioning.quality_values={{lufs:{lufs}}}"]))
    path = control.write(tmp_path / "r", "demo", "zonos2", "conditioning.quality_values.lufs")
    summary = json.loads(path.with_suffix(".json").read_text())
    assert [row["requested"] for row in summary["per_setting"]] == [-30, -20] and summary["unit"] == "LUFS"
    assert all(row["n"] == 1 and -70 < row["measured_median"] < 0 for row in summary["per_setting"])
    assert "LUFS" in path.read_text() and path.with_suffix(".png").stat().st_size > 5000


def test_adapter_refuses_to_run_without_cloning(assets):
    root, _ = assets
    with pytest.raises(SystemUnavailable, match="voice cloning needs"):
        systems.create("zonos2", {"checkpoint": str(root / "ckpt")})
    with pytest.raises(SystemUnavailable, match="not found"):
        systems.create("zonos2", {"checkpoint": str(root / "missing"), "speaker_embeddings_dir": str(root)})


class _ZonosServer(BaseHTTPRequestHandler):
    """Speaks the official /tts/generate protocol: JSON in, float32 LE PCM at 44.1 kHz out."""

    calls: list = []
    fail_first_with_429 = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/tts/capabilities":
            body = json.dumps({"max_tokens": 6144, "languages": ["en_us", "de"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(payload)
        if type(self).fail_first_with_429:
            type(self).fail_first_with_429 = False
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        if not payload.get("text"):
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"detail": "text must not be empty"}')
            return
        n = 4410 * len(payload["text"]) // 10
        pcm = (0.3 * np.sin(np.arange(n) * 2 * np.pi * 220 / 44100)).astype("<f4").tobytes()
        self.send_response(200)
        self.send_header("Content-Type", "audio/pcm")
        self.send_header("X-Audio-Sample-Rate", "44100")
        self.send_header("X-Audio-Channels", "1")
        self.send_header("X-Audio-Format", "float32")
        self.end_headers()
        self.wfile.write(pcm)


@pytest.fixture()
def zonos_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ZonosServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ZonosServer.calls = []
    _ZonosServer.fail_first_with_429 = True
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_server_adapter_protocol_retries_and_errors(zonos_server, samples):
    system = systems.create("zonos2_server", {"url": zonos_server, "backoff_s": 0.01, "text_normalization": True})
    prompt = samples / "en/ljspeech_LJ001-0001.flac"
    ok, empty, thai = system.synthesize([
        SynthesisRequest("a", "Hello there", "en", prompt, None, seed=5),
        SynthesisRequest("b", "", "en", prompt, None, seed=6),
        SynthesisRequest("c", "สวัสดี", "th", prompt, None, seed=7),
    ])
    assert ok.status == "ok" and ok.sample_rate == 44100 and len(ok.samples) == 4410 * 11 // 10
    assert np.abs(ok.samples).max() == pytest.approx(0.3, abs=1e-3)
    assert empty.status == "failed" and "HTTP 400" in empty.error and "text must not be empty" in empty.error
    assert thai.status == "ok"
    first, retried = _ZonosServer.calls[0], _ZonosServer.calls[1]
    assert first == retried  # the 429 was retried with the same request
    assert first["language"] == "en_us" and first["text_normalization"] is True and first["seed"] == 5
    assert base64.b64decode(first["speaker_audio_base64"]) == prompt.read_bytes()
    assert _ZonosServer.calls[-1]["language"] == "en_us" and _ZonosServer.calls[-1]["text_normalization"] is False


def test_server_adapter_without_server():
    with pytest.raises(SystemUnavailable, match="no ZONOS2 server answers"):
        systems.create("zonos2_server", {"url": "http://127.0.0.1:9"})


def test_text_normalization_follows_the_official_server():
    """NeMo 1.2.0 (what the server vendors) with the server's pre- and post-processing."""
    from zonos2 import text_norm

    assert text_norm.normalize("It costs $5.32 today.", "en") == "It costs five dollars thirty two cents today."
    assert text_norm.normalize("I was born in 1990.", "en") == "I was born in nineteen ninety."  # digit-mark spacing
    assert text_norm.normalize("Hallo 42", "xx") == "Hallo 42" and text_norm.normalize("  ", "en") == "  "
    # The " ." collapse applies to every language (plain spaces, mark then whitespace or end).
    assert text_norm._SPACE_PUNCT.sub(r"\1", "am drei . Mai , zwanzig .") == "am drei. Mai, zwanzig."
    assert text_norm._SPACE_PUNCT.sub(r"\1", "a .b") == "a .b"


def test_zonos2_stops_before_loading_without_the_normalizer(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_nemo(name, *args, **kwargs):
        if name.startswith("nemo_text_processing"):
            raise ImportError("No module named 'nemo_text_processing'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nemo)
    with pytest.raises(SystemUnavailable, match=r"nemo-text-processing.*pip install -e '\.\[zonos2\]'"):
        systems.create("zonos2", {"checkpoint": "/nonexistent", "speaker_embeddings_dir": "/tmp"})


def test_speaker_encoder_code_runs_only_when_allowed(tmp_path):
    """The ECAPA encoder's model class is code inside its snapshot: nothing runs without consent."""
    from zonos2.speaker import SpeakerEmbedder, SpeakerError

    snapshot = tmp_path / "Qwen3-Voice-Embedding-12Hz-1.7B"
    snapshot.mkdir()
    (snapshot / "config.json").write_text('{"auto_map": {"AutoModel": "modeling_ecapa.Encoder"}}')
    (snapshot / "modeling_ecapa.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(SpeakerError, match="speaker_encoder_trust_remote_code=true"):
        SpeakerEmbedder(snapshot)


def test_dummy_load_format_reads_only_the_config(tmp_path):
    """--load-format dummy (the device checks' server): random weights of params.json's config
    and a random DAC of the released size, nothing else read; a missing config is an error."""
    (tmp_path / "params.json").write_text(json.dumps(CFG.to_dict()))
    tts = Zonos2TTS.from_pretrained(tmp_path, device="cpu", dtype="float32", load_format="dummy")
    assert tts.config == CFG and tts.info["load_format"] == "dummy" and tts.info["vocoder"].startswith("dummy")
    assert tts.vocoder.model.config.decoder_hidden_size == 1536 and tts.sample_rate == 44100  # dac_44khz's size
    [audio] = tts.generate("Random weights", conditioning=Conditioning(text_normalization=False),
                           params=SamplingParams(seed=1, max_frames=16, ignore_eos=True))
    assert audio.shape == (16 * 512,) and np.isfinite(audio).all()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="still reads the config"):
        Zonos2TTS.from_pretrained(empty, load_format="dummy", vocoder=None)
    with pytest.raises(ValueError, match="auto or dummy"):
        Zonos2TTS.from_pretrained(tmp_path, load_format="fast")
