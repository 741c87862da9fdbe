"""ZONOS2 through the in-repo clean-room runner (``zonos2/``), on CPU or GPU.

Cloning needs a speaker embedding per prompt: from the ECAPA speaker encoder (a local snapshot,
``speaker_encoder``) or from saved embeddings (``speaker_embeddings_dir``: ``<prompt stem>.npy``).
Without either the system refuses to start, because an unconditioned voice would make every
similarity number meaningless."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem

INSTALL_HINT = "install the extra: pip install -e '.[zonos2]'"


class Zonos2(TTSSystem):
    name = "zonos2"

    def __init__(self, checkpoint: str = "Zyphra/ZONOS2", revision: str | None = None,
                 vocoder: str = "descript/dac_44khz", vocoder_revision: str | None = None,
                 speaker_encoder: str | None = None, speaker_embeddings_dir: str | None = None,
                 device: str = "auto", dtype: str | None = None, conditioning: dict[str, Any] | None = None,
                 sampling: dict[str, Any] | None = None, trust_pickle: bool = False, decode: str = "chunked",
                 speaker_encoder_trust_remote_code: bool = False, cpu_kernels: str = "auto"):
        try:
            from zonos2.api import Conditioning, Zonos2TTS
            from zonos2.sampler import SamplingParams
        except ImportError as exc:
            raise SystemUnavailable(f"zonos2: missing dependency ({exc}); {INSTALL_HINT}") from exc
        if decode not in ("chunked", "one_shot"):
            raise SystemUnavailable(f"zonos2: decode must be chunked (the server's) or one_shot, not {decode!r}")
        self.decode_mode = decode
        self.conditioning = Conditioning(**(conditioning or {}))
        if self.conditioning.text_normalization:
            from zonos2 import text_norm

            try:  # before loading 16 GB of weights: the run would stop at the first item anyway
                text_norm.require()
            except RuntimeError as exc:
                raise SystemUnavailable(f"zonos2: {exc}") from exc
        if not speaker_encoder and not speaker_embeddings_dir:
            raise SystemUnavailable(
                "zonos2: voice cloning needs system.options.speaker_encoder (local snapshot of "
                "marksverdhei/Qwen3-Voice-Embedding-12Hz-1.7B) or system.options.speaker_embeddings_dir "
                "(<prompt file stem>.npy per prompt)")
        from zonos2.checkpoint import CheckpointError
        from zonos2.vocoder import VocoderError

        try:
            self.tts = Zonos2TTS.from_pretrained(checkpoint, revision, vocoder, vocoder_revision, speaker_encoder,
                                                 device, dtype, trust_pickle, speaker_encoder_trust_remote_code,
                                                 cpu_kernels)
        except (CheckpointError, VocoderError, ValueError, OSError) as exc:
            raise SystemUnavailable(f"zonos2: {exc}") from exc
        self.embeddings_dir = Path(speaker_embeddings_dir) if speaker_embeddings_dir else None
        self.sampling = dict(sampling or {})
        self._SamplingParams = SamplingParams
        self.capabilities = Capabilities(clones_from_audio=True, needs_prompt_text=False, languages=None,
                                         seedable=True, native_sample_rate=self.tts.sample_rate)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "runner": "in-repo clean-room (zonos2/)", "model": self.tts.info,
                "conditioning": asdict(self.conditioning), "sampling": self.sampling,
                "text_normalizer": self._text_normalizer(), "decode": self.decode_mode,
                "speaker_embeddings_dir": str(self.embeddings_dir) if self.embeddings_dir else None}

    def _text_normalizer(self) -> dict[str, Any] | None:
        if not self.conditioning.text_normalization:
            return None
        from importlib.metadata import version

        return {"package": f"nemo-text-processing=={version('nemo-text-processing')}",
                "pynini": version("pynini"), "reproduces": "official ZONOS2 server tokenizer/textnorm.py"}

    def _speaker(self, request: SynthesisRequest):
        if self.embeddings_dir is not None:
            path = self.embeddings_dir / f"{request.prompt_wav.stem}.npy"
            if path.is_file() or self.tts.embedder is None:
                return str(path)
        return str(request.prompt_wav)

    def self_checks(self, speech, other) -> list[dict[str, Any]]:
        """The DAC's encode -> decode round trip of a speech clip (a wrong codec loses the signal)
        and, with the speaker encoder, embedding shape and that one speaker's clips are closer to
        each other than to another speaker's."""
        import numpy as np
        import soxr
        import torch

        checks = []
        if self.tts.vocoder is not None:
            samples, rate = speech[0]
            at_dac = soxr.resample(np.asarray(samples, np.float32), rate, self.tts.vocoder.sample_rate)
            snr = self.tts.vocoder.round_trip_snr_db(at_dac)
            checks.append({"check": "DAC encode -> decode of speech, spectral SNR", "value": f"{snr:.1f} dB",
                           "range_key": "dac_snr_db", "measured": snr,
                           "message": f"DAC round trip keeps {snr:.1f} dB SNR: wrong codec weights or sample rate?"})
        if self.tts.embedder is not None:
            embeddings = [self.tts.embedder.embed(samples, rate) for samples, rate in [*speech[:2], other]]
            dim = self.tts.config.speaker_embedding_dim
            shapes_ok = all(tuple(e.shape) == (dim,) and bool(torch.isfinite(e).all()) and float(e.norm()) > 0
                            for e in embeddings)
            cos = torch.nn.functional.cosine_similarity
            same, diff = float(cos(embeddings[0], embeddings[1], dim=0)), float(cos(embeddings[0], embeddings[2], dim=0))
            checks.append({"check": "speaker embedding: shape, finite; same minus other speaker (cosine)",
                           "value": f"({dim},) {'ok' if shapes_ok else 'BAD'}; {same:.3f} - {diff:.3f} = {same - diff:.3f}",
                           "range_key": "speaker_margin",
                           "measured": same - diff if shapes_ok else float("-inf"),
                           "message": f"speaker encoder: same-speaker cosine {same:.3f} not above other-speaker {diff:.3f} "
                                      f"(or bad shape/values): wrong snapshot, or called with the wrong input?"})
        return checks

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[SynthesisResult]:
        from zonos2.generation import generate

        start = time.perf_counter()
        results: dict[int, SynthesisResult] = {}
        prepared = []
        for index, request in enumerate(requests):
            try:
                params = self._SamplingParams(**{**self.sampling, "seed": request.seed})
                conditioning = replace(self.conditioning, language=request.language)
                [prepared_request] = self.tts.requests_for([request.text], [self._speaker(request)], conditioning, params)
                prepared.append((index, prepared_request))
            except (ValueError, RuntimeError, OSError) as exc:  # bad text, missing embedding...
                results[index] = SynthesisResult.failed(request.item_id, f"zonos2: {exc}")
        if prepared:
            outputs = generate(self.tts.model, [p for _, p in prepared])
            latency = (time.perf_counter() - start) / len(prepared)
            for (index, _), output in zip(prepared, outputs):
                results[index] = SynthesisResult(
                    item_id=requests[index].item_id, status="ok", samples=self.tts.decode(output, self.decode_mode),
                    sample_rate=self.tts.sample_rate, latency_s=latency,
                    meta={"stop_reason": output.stop_reason, "frames": int(len(output.frames)),
                          "eos_frame": output.eos_frame, "batch_size": len(prepared)})
        return [results[i] for i in range(len(requests))]
