"""Python API: ``Zonos2TTS.from_pretrained(...)``, ``.generate(...)``, ``.stream(...)``."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from zonos2 import checkpoint, text_norm
from zonos2.cpu_kernels import pack_for_decode
from zonos2.generation import BatchDecoder, GenerationRequest, GenerationResult, generate
from zonos2.model import Zonos2Model
from zonos2.prompt import DEFAULT_QUALITY, PromptOptions, build_prompt
from zonos2.sampler import SamplingParams
from zonos2.speaker import SpeakerEmbedder, load_saved_embedding
from zonos2.vocoder import DAC_HUB_ID, STREAM_DELAY_FRAMES, DacVocoder


@dataclass(frozen=True)
class Conditioning:
    """Everything besides text and speaker that goes into the prompt (official defaults)."""

    clean_speaker_background: bool = False
    accurate_mode: bool = True
    speaking_rate_enabled: bool = False
    speaking_rate_bucket: int | None = None
    speaking_rate: float | None = None
    speed: float | None = None
    quality_enabled: bool = True
    quality_buckets: dict[str, int] | None = field(default_factory=lambda: dict(DEFAULT_QUALITY))
    quality_values: dict[str, Any] | None = None
    text_normalization: bool = True  # the official server's default (NeMo; needs nemo-text-processing)
    language: str = "en"


def pick_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Zonos2TTS:
    def __init__(self, model: Zonos2Model, vocoder: DacVocoder | None, embedder: SpeakerEmbedder | None = None,
                 info: dict[str, Any] | None = None):
        self.model, self.vocoder, self.embedder = model, vocoder, embedder
        self.config = model.config
        self.info = info or {}

    @classmethod
    def from_pretrained(cls, checkpoint_source: str | os.PathLike = checkpoint.HUB_ID, revision: str | None = None,
                        vocoder: str | None = DAC_HUB_ID, vocoder_revision: str | None = None,
                        speaker_encoder: str | None = None, device: str = "auto", dtype: str | None = None,
                        trust_pickle: bool = False, speaker_encoder_trust_remote_code: bool = False,
                        cpu_kernels: str = "auto", load_format: str = "auto") -> "Zonos2TTS":
        """``cpu_kernels``: ``auto`` packs a bf16 model on a CPU for oneDNN (``zonos2.cpu_kernels``:
        the same bits, faster decode); ``torch`` keeps PyTorch's kernels; ``onednn`` insists.
        ``load_format="dummy"``: random weights of the checkpoint's config and a random DAC of
        the real size, nothing downloaded (``checkpoint.dummy``): for speed runs only."""
        if load_format not in ("auto", "dummy"):
            raise ValueError(f"load_format must be auto or dummy, got {load_format!r}")
        device = pick_device(device)
        torch_dtype = getattr(torch, dtype) if dtype else None
        if load_format == "dummy":
            model, info = checkpoint.dummy(checkpoint_source, torch_dtype, device)
        else:
            model, info = checkpoint.load(checkpoint_source, revision, torch_dtype, device, trust_pickle)
        info["cpu_kernels"] = pack_for_decode(model, cpu_kernels)
        if not vocoder:
            dac = None
        elif load_format == "dummy":
            dac, vocoder = DacVocoder.dummy(device), "dummy (random, descript/dac_44khz's size)"
        else:
            dac = DacVocoder.from_pretrained(vocoder, vocoder_revision, device)
        embedder = (SpeakerEmbedder(speaker_encoder, device="cpu", trust_remote_code=speaker_encoder_trust_remote_code)
                    if speaker_encoder else None)
        info.update({"vocoder": vocoder, "vocoder_revision": vocoder_revision, "speaker_encoder": speaker_encoder})
        if embedder is not None:  # the remote code that ran, by checksum
            import hashlib

            info["speaker_encoder_code_sha256"] = {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(speaker_encoder).expanduser().glob("*.py"))}
        return cls(model, dac, embedder, info)

    @property
    def sample_rate(self) -> int:
        return self.vocoder.sample_rate if self.vocoder else 44100

    def speaker_embedding(self, source: str | os.PathLike | tuple[np.ndarray, int] | torch.Tensor) -> torch.Tensor:
        """From a saved .npy/.npz, an audio file, (samples, rate), or a ready tensor."""
        dim = self.config.speaker_embedding_dim
        if isinstance(source, torch.Tensor):
            if tuple(source.shape) != (dim,):
                raise ValueError(f"speaker embedding must have shape ({dim},), got {tuple(source.shape)}")
            return source.float()
        if isinstance(source, (str, os.PathLike)) and Path(source).suffix in (".npy", ".npz"):
            return load_saved_embedding(source, dim)
        if self.embedder is None:
            raise ValueError("cloning from audio needs the speaker encoder: pass speaker_encoder=<local snapshot of "
                             "marksverdhei/Qwen3-Voice-Embedding-12Hz-1.7B>, or give a saved .npy/.npz embedding")
        if isinstance(source, tuple):
            samples, rate = source
        else:
            import soundfile as sf

            samples, rate = sf.read(str(source), dtype="float32", always_2d=True)
            samples = samples.mean(axis=1)
        return self.embedder.embed(samples, rate)

    def prompt(self, text: str, speaker: bool, conditioning: Conditioning) -> np.ndarray:
        if conditioning.text_normalization:
            text = text_norm.normalize(text, conditioning.language)
        fields = {k: v for k, v in asdict(conditioning).items() if k not in ("text_normalization", "language")}
        return build_prompt(self.config, PromptOptions(text=text, has_speaker=speaker, **fields))

    def requests_for(self, texts: Sequence[str], speakers, conditioning, params) -> list[GenerationRequest]:
        speakers = list(speakers) if speakers is not None else [None] * len(texts)
        params = list(params) if isinstance(params, (list, tuple)) else [params or SamplingParams()] * len(texts)
        if not (len(speakers) == len(params) == len(texts)):
            raise ValueError("texts, speakers and params must have the same length")
        requests = []
        for text, speaker, p in zip(texts, speakers, params):
            embedding = self.speaker_embedding(speaker) if speaker is not None else None
            requests.append(GenerationRequest(self.prompt(text, embedding is not None, conditioning), p, embedding))
        return requests

    def generate_codes(self, texts: Sequence[str], speakers=None, conditioning: Conditioning | None = None,
                       params: SamplingParams | Sequence[SamplingParams] | None = None):
        return generate(self.model, self.requests_for(texts, speakers, conditioning or Conditioning(), params))

    def generate(self, texts: str | Sequence[str], speakers=None, conditioning: Conditioning | None = None,
                 params: SamplingParams | Sequence[SamplingParams] | None = None) -> list[np.ndarray]:
        """Float32 PCM at 44.1 kHz, one array per text."""
        if isinstance(texts, str):
            texts = [texts]
        return [self.decode(r) for r in self.generate_codes(texts, speakers, conditioning, params)]

    def decode(self, result: GenerationResult, mode: str = "chunked") -> np.ndarray:
        """``chunked`` (default): the official server's decode (16-frame chunks, 4 frames of
        context, 2048-sample crossfade), also used for its non-streamed responses; ``one_shot``:
        the whole code sequence in one DAC pass (seam-free, not what the server outputs)."""
        if self.vocoder is None:
            raise ValueError("no vocoder loaded (vocoder=None); use generate_codes")
        n_delay = self.config.n_codebooks - 1
        if mode == "chunked":
            return self.vocoder.decode_chunked(result.server_pieces(n_delay))
        if mode == "one_shot":
            return self.vocoder.decode(result.aligned_codes(n_delay))
        raise ValueError(f"unknown decode mode {mode!r} (chunked | one_shot)")

    def stream(self, text: str, speaker=None, conditioning: Conditioning | None = None,
               params: SamplingParams | None = None) -> Iterator[np.ndarray]:
        """PCM chunks as frames are generated (first audio after about 24 frames)."""
        if self.vocoder is None:
            raise ValueError("no vocoder loaded (vocoder=None)")
        [request] = self.requests_for([text], [speaker] if speaker is not None else None,
                                   conditioning or Conditioning(), params)
        decoder = BatchDecoder(self.model, [request])

        def pieces() -> Iterator[tuple[np.ndarray, bool]]:
            sent = 0
            while decoder.step():
                piece, sent = decoder.new_piece(0, sent, STREAM_DELAY_FRAMES)
                if piece is not None:
                    yield piece, False
            yield decoder.result(0).final_piece(sent, STREAM_DELAY_FRAMES), True

        yield from self.vocoder.stream(pieces())
