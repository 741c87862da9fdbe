"""``python -m zonos2 serve``: an OpenAI-compatible speech server on our runner (FastAPI + uvicorn).

Routes: ``POST /v1/audio/speech`` (OpenAI's fields, plus voice cloning by reference audio),
``POST /tts/generate`` (the official ZONOS2 server's fields and raw float32 PCM response),
``GET /health``, ``GET /v1/models``, and saved voices: ``GET|POST /tts/speakers``,
``GET /tts/speakers/{id}/preview`` (``zonos2.voices``). Requests share one decode batch (``zonos2.engine``); streamed
responses send audio as the vocoder's chunked decode produces it. A full waiting queue answers
429 with Retry-After; bad input answers 400 with a JSON error; a client that disconnects frees
its row; shutdown finishes the running requests and refuses the waiting ones.

A request names at most one speaker: reference audio as ``ref_audio`` / ``speaker_audio_base64``
(base64 or a data URL, any format libsndfile reads: what vLLM-omni clients and the official server
send) or sglang-omni's ``references: [{data + media_type | ref_audio | audio | audio_path, text}]``
(one entry), ``speaker_embedding_base64`` (.npy/.npz), ``speaker_embedding_id`` (a default or
session voice) or a blend (``speaker_blend_embedding_id_a`` / ``_b`` / ``speaker_blend_t``).
Server-local files (``audio_path``, ``file://``) are read only under ``allowed_media_dir``
(``--allowed-local-media-path``, vLLM's name for the same guard); URLs are never fetched.
``ref_text`` / ``text`` are accepted and not used (ZONOS2 clones from an embedding).

``pcm`` on ``/v1/audio/speech`` is OpenAI's: 16-bit signed little-endian samples, at the rate in
``X-Sample-Rate`` (sglang-omni's headers, with ``X-Channels`` and ``X-Bit-Depth``); the official
route ``/tts/generate`` answers float32 with ``X-Audio-*`` headers, as the official server does.
"""


import base64
import binascii
import io
import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from zonos2.api import Conditioning, Zonos2TTS
from zonos2.engine import Engine, Job, Overloaded
from zonos2.sampler import SamplingParams
from zonos2.speaker import load_saved_embedding
from zonos2.voices import VoiceStore, slerp

FORMATS = {"wav": "audio/wav", "pcm": "audio/pcm", "flac": "audio/flac"}
RETRY_AFTER_S = 1
SESSION_HEADER = "X-TTS-Session-ID"
AUDIO_FIELDS = ("ref_audio", "speaker_audio_base64", "speaker_wav_base64")
SPEAKER_FIELDS = AUDIO_FIELDS + ("references", "speaker_embedding_base64", "speaker_embedding_id",
                                  "speaker_blend_embedding_id_a")
REFERENCE_AUDIO_KEYS = ("data", "ref_audio", "audio", "audio_path")  # sglang-omni's references[] entries


class BadRequest(ValueError):
    pass


def _base64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a base64 string or data URL")
    if value.startswith(("http://", "https://", "file://")):  # vLLM-omni fetches these; we do not fetch for clients
        raise BadRequest(f"{field}: this server does not fetch URLs; send the audio as base64 or a data URL "
                         "(file:// only under --allowed-local-media-path)")
    try:
        return base64.b64decode(value.split(",", 1)[1] if value.startswith("data:") else value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"{field} is not base64 ({exc})") from exc


def decode_audio(value: str | bytes, field: str = "ref_audio") -> tuple[np.ndarray, int]:
    """Base64 (or a ``data:...;base64,`` URL) of an audio file, or its bytes, to mono float32 samples."""
    import soundfile as sf

    raw = value if isinstance(value, bytes) else _base64(value, field)
    try:
        samples, rate = sf.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except (ValueError, RuntimeError) as exc:
        raise BadRequest(f"{field} is not a readable audio file ({type(exc).__name__})") from exc
    if samples.size == 0:
        raise BadRequest("reference audio is empty")
    return samples.mean(axis=1), int(rate)


def _float(body: dict[str, Any], key: str, default: float | None) -> float | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number")
    return value


class Service:
    """What the routes share: the model, the engine, request parsing and audio encoding."""

    def __init__(self, tts: Zonos2TTS, slots: int = 8, max_queue: int = 32, max_text_chars: int = 2000,
                 model_name: str = "zonos2", voices: VoiceStore | None = None,
                 allowed_media_dir: str | Path | None = None):
        if tts.vocoder is None:
            raise ValueError("the server needs a vocoder")
        self.tts, self.model_name, self.max_text_chars = tts, model_name, max_text_chars
        self.allowed_media_dir = Path(allowed_media_dir).resolve() if allowed_media_dir else None
        self.engine = Engine(tts.model, slots=slots, max_queue=max_queue)
        self.voices = voices or VoiceStore()

    def embedding(self, body: dict[str, Any], field: str):
        """The speaker embedding of an audio or .npy/.npz field, and the audio (None for an embedding)."""
        if field == "speaker_embedding_base64":
            try:
                return load_saved_embedding(_base64(body[field], field), self.tts.config.speaker_embedding_dim,
                                            str(body.get("speaker_embedding_name") or field)), None
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        audio = self.reference_audio(body, field)
        return self.tts.speaker_embedding(audio), audio

    def reference_audio(self, body: dict[str, Any], field: str) -> tuple[np.ndarray, int]:
        if self.tts.embedder is None:
            raise BadRequest("this server has no speaker encoder loaded (start it with --speaker-encoder)")
        if field == "references":
            return self.listed_reference(body[field])
        return self.audio_value(body[field], field)

    def audio_value(self, value: Any, field: str) -> tuple[np.ndarray, int]:
        """Base64 or a data URL, or a ``file://`` URL under the allowed media directory."""
        if isinstance(value, str) and value.startswith("file://"):
            return decode_audio(self.local_file(value[len("file://"):], field), field)
        return decode_audio(value, field)

    def listed_reference(self, references: Any) -> tuple[np.ndarray, int]:
        """sglang-omni's ``references``: one entry with its audio as base64 ``data`` (+ ``media_type``),
        ``ref_audio`` / ``audio`` (base64 or data URL) or a server-local ``audio_path``."""
        if not isinstance(references, list) or len(references) != 1 or not isinstance(references[0], dict):
            raise BadRequest("references must be a list of one {audio, text} entry: ZONOS2 clones one speaker")
        entry = references[0]
        if entry.get("vq_codes") is not None:
            raise BadRequest("references[0].vq_codes: ZONOS2 clones from reference audio, not codec tokens")
        given = [key for key in REFERENCE_AUDIO_KEYS if entry.get(key) is not None]
        if len(given) != 1:
            raise BadRequest(f"references[0] needs exactly one of {', '.join(REFERENCE_AUDIO_KEYS)}, got {given}")
        key = given[0]
        field = f"references[0].{key}"
        if key == "audio_path":
            return decode_audio(self.local_file(entry[key], field), field)
        return self.audio_value(entry[key], field)

    def local_file(self, path: Any, field: str) -> bytes:
        """A server-local file's bytes, only from inside ``allowed_media_dir``."""
        if self.allowed_media_dir is None:
            raise BadRequest(f"{field}: this server reads no local files (start it with --allowed-local-media-path "
                             "DIR to allow files under DIR); send the audio as base64 or a data URL")
        if not isinstance(path, str) or not path:
            raise BadRequest(f"{field} must be a file path")
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.allowed_media_dir):
            raise BadRequest(f"{field}: {path} is outside the allowed media directory")
        try:
            return resolved.read_bytes()
        except OSError as exc:
            raise BadRequest(f"{field}: cannot read {path} ({type(exc).__name__})") from exc

    def voice(self, voice_id: Any, session: str | None):
        try:
            return self.voices.get(str(voice_id), session)
        except KeyError as exc:
            raise BadRequest(exc.args[0]) from exc

    def speaker(self, body: dict[str, Any], session: str | None):
        """The request's speaker (audio to embed, or an embedding), or None."""
        given = [field for field in SPEAKER_FIELDS if body.get(field) is not None]
        if len(given) > 1:
            raise BadRequest(f"give at most one speaker source, got {given}")
        if not given:
            return None
        field = given[0]
        if field in AUDIO_FIELDS or field == "references":
            return self.reference_audio(body, field)  # embedded when the request is built, in ``job``
        if field == "speaker_embedding_base64":
            return self.embedding(body, field)[0]
        if field == "speaker_embedding_id":
            return self.voice(body[field], session).embedding
        if body.get("speaker_blend_embedding_id_b") is None:
            raise BadRequest("a blend needs speaker_blend_embedding_id_a and speaker_blend_embedding_id_b")
        t = _float(body, "speaker_blend_t", 0.5)
        if not 0.0 <= t <= 1.0:
            raise BadRequest("speaker_blend_t must be within [0, 1]")
        return slerp(self.voice(body[field], session).embedding,
                     self.voice(body["speaker_blend_embedding_id_b"], session).embedding, t)

    def save_voice(self, body: dict[str, Any], session: str | None) -> dict[str, Any]:
        """``POST /tts/speakers``: cache a voice for this session."""
        if not session:
            raise BadRequest(f"saving a voice needs the {SESSION_HEADER} header")
        fields = [f for f in AUDIO_FIELDS + ("speaker_embedding_base64",) if body.get(f) is not None]
        if len(fields) != 1:
            raise BadRequest("give one of speaker_audio_base64, speaker_wav_base64, speaker_embedding_base64")
        embedding, audio = self.embedding(body, fields[0])
        label = str(body.get("label") or body.get("speaker_audio_name") or body.get("speaker_embedding_name") or "voice")
        try:
            return self.voices.add(session, label, embedding, audio).describe()
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc

    def job(self, body: dict[str, Any], text_key: str, official: bool, session: str | None = None) -> Job:
        text = body.get(text_key)
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(f"{text_key} must be a non-empty string")
        if len(text) > self.max_text_chars:
            raise BadRequest(f"{text_key} has {len(text)} characters, more than {self.max_text_chars}")
        speaker = self.speaker(body, session)
        seed = body.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise BadRequest("seed must be an integer")
        max_tokens = body.get("max_tokens", body.get("max_new_tokens"))  # ours / the official's, vLLM-omni's
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise BadRequest("max_tokens must be a positive integer")
        try:
            params = SamplingParams(seed=seed, max_frames=max_tokens) if not official else SamplingParams(
                temperature=_float(body, "temperature", 1.15), top_k=int(body.get("topk", 106)),
                top_p=_float(body, "top_p", 0.0), min_p=_float(body, "min_p", 0.18), seed=seed,
                max_frames=max_tokens, repetition_window=int(body.get("repetition_window", 50)),
                repetition_penalty=_float(body, "repetition_penalty", 1.2),
                repetition_codebooks=int(body.get("repetition_codebooks", 8)))
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"bad sampling field: {exc}") from exc
        conditioning = Conditioning(language=str(body.get("language", "en")).split("_")[0],
                                    text_normalization=bool(body.get("text_normalization", True)),
                                    speaking_rate_enabled=bool(body.get("speaking_rate_enabled", False)),
                                    speed=_float(body, "speed", None) if body.get("speaking_rate_enabled") else None)
        try:
            [request] = self.tts.requests_for([text], [speaker] if speaker is not None else None, conditioning, params)
        except (ValueError, RuntimeError) as exc:
            raise BadRequest(str(exc)) from exc
        return self.engine.submit(request)

    def pcm_chunks(self, job: Job) -> Iterator[np.ndarray]:
        """Audio chunks as the vocoder's streamed decode yields them; cancels the job if the
        consumer stops early (a disconnected client)."""
        try:
            yield from self.tts.vocoder.stream(job.iter_pieces())
        finally:
            job.cancel()

    def encode(self, audio: np.ndarray, fmt: str) -> bytes:
        """A whole WAV or FLAC file (raw PCM: the route's own packing)."""
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, audio, self.tts.sample_rate, format=fmt.upper(), subtype="FLOAT" if fmt == "wav" else "PCM_16")
        return buf.getvalue()


def create_app(service: Service):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    @asynccontextmanager
    async def lifespan(_app):
        service.engine.start()
        yield
        service.engine.stop()  # the running requests finish, the waiting ones are refused

    app = FastAPI(title="ZONOS2 (ztts1-eval runner)", lifespan=lifespan)
    official_headers = {"X-Audio-Sample-Rate": str(service.tts.sample_rate), "X-Audio-Channels": "1",
                        "X-Audio-Format": "float32"}
    pcm16_headers = {"X-Sample-Rate": str(service.tts.sample_rate), "X-Channels": "1", "X-Bit-Depth": "16"}

    def error(status: int, message: str, **headers: str) -> JSONResponse:
        kind = {400: "invalid_request_error", 404: "not_found_error", 429: "overloaded"}.get(status, "server_error")
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status, headers=headers)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise BadRequest(f"the body is not JSON ({exc.msg})") from exc
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    async def respond(body: dict[str, Any], text_key: str, official: bool, session: str | None):
        fmt = "pcm" if official else str(body.get("response_format", "wav"))
        if fmt not in FORMATS:
            raise BadRequest(f"response_format must be one of {sorted(FORMATS)}")
        if body.get("stream_format", "audio") != "audio":  # OpenAI's and vLLM-omni's field; "sse" is theirs only
            raise BadRequest("stream_format: only audio (raw bytes) is served here, not sse")
        stream = bool(body.get("stream", official) or "stream_format" in body)
        if fmt == "flac" and stream:
            raise BadRequest("flac cannot be streamed; use wav or pcm")
        # text normalization and the speaker encoder run here: off the event loop, which keeps streaming
        job = await run_in_threadpool(service.job, body, text_key, official, session)
        headers = official_headers if official else pcm16_headers if fmt == "pcm" else {}
        pack = _pcm16 if fmt == "pcm" and not official else lambda chunk: chunk.astype("<f4").tobytes()
        if stream:
            async def chunks():
                # async, so that a disconnect (the task cancelled) reaches ``finally`` at once
                pcm = service.pcm_chunks(job)
                try:
                    if fmt == "wav":  # a streamed WAV header with an open length, then float32 samples
                        yield _wav_header(service.tts.sample_rate)
                    while (chunk := await run_in_threadpool(next, pcm, None)) is not None:
                        yield pack(chunk)
                finally:
                    job.cancel()
            return StreamingResponse(chunks(), media_type=FORMATS[fmt], headers=headers)
        chunks = await run_in_threadpool(lambda: list(service.pcm_chunks(job)))  # the event loop keeps serving
        audio = np.concatenate(chunks or [np.zeros(0, np.float32)])
        return Response(pack(audio) if fmt == "pcm" else service.encode(audio, fmt), media_type=FORMATS[fmt],
                        headers=headers)

    async def handle(request: Request, text_key: str, official: bool):
        try:
            return await respond(await body_of(request), text_key, official, request.headers.get(SESSION_HEADER))
        except BadRequest as exc:
            return error(400, str(exc))
        except Overloaded as exc:
            return error(429, str(exc), **{"Retry-After": str(RETRY_AFTER_S)})

    @app.post("/v1/audio/speech")
    async def speech(request: Request):
        return await handle(request, "input", official=False)

    @app.post("/tts/generate")
    async def generate(request: Request):
        return await handle(request, "text", official=True)

    @app.get("/tts/speakers")
    def speakers(request: Request):
        return {"speakers": service.voices.listing(request.headers.get(SESSION_HEADER))}

    @app.post("/tts/speakers")
    async def save_speaker(request: Request):
        try:
            body = await body_of(request)
            return await run_in_threadpool(service.save_voice, body, request.headers.get(SESSION_HEADER))
        except BadRequest as exc:
            return error(400, str(exc))

    @app.get("/tts/speakers/{voice_id}/preview")
    def preview(voice_id: str, request: Request):
        try:
            voice = service.voices.get(voice_id, request.headers.get(SESSION_HEADER))
        except KeyError as exc:
            return error(404, exc.args[0])
        if voice.preview is None:
            return error(404, f"voice {voice_id} came from an embedding and has no preview")
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, *voice.preview, format="WAV", subtype="FLOAT")
        return Response(buf.getvalue(), media_type="audio/wav")

    @app.get("/health")
    def health():
        return {"status": "ok", "running": service.engine.busy, "waiting": service.engine.waiting.qsize(),
                "slots": service.engine.slots}

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": service.model_name, "object": "model", "owned_by": "ztts1-eval"}]}

    return app


def _pcm16(audio: np.ndarray) -> bytes:
    """OpenAI's ``pcm``: 16-bit signed little-endian, clipped to full scale."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def _wav_header(rate: int) -> bytes:
    """A float32 mono WAV header whose sizes say "unknown" (0xFFFFFFFF), as streaming servers send."""
    import struct

    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 3, 1, rate,
            rate * 4, 4, 32) + b"data" + struct.pack("<I", 0xFFFFFFFF))
