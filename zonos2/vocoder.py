"""DAC 44.1 kHz decoding of generated codes, one-shot and streamed (reference §4.4, §4.5).

Uses transformers' ``DacModel`` (hub ``descript/dac_44khz`` or a local directory): the
``descript-audio-codec`` package cannot be imported without torchaudio, so it is not offered."""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np
import torch

DAC_HUB_ID = "descript/dac_44khz"
MIN_DECODE_CHUNK = 16  # frames
CONTEXT_FRAMES = 4
STREAM_DELAY_FRAMES = 8  # the last 8 received frames are not yet defined in every codebook


class VocoderError(RuntimeError):
    pass


class DacVocoder:
    def __init__(self, model, device: torch.device | str = "cpu"):
        self.model = model.to(device).eval()
        self.device = device
        self.sample_rate = int(model.config.sampling_rate)
        self.hop = int(model.config.hop_length)
        self.n_codebooks = int(model.config.n_codebooks)

    @classmethod
    def from_pretrained(cls, source: str = DAC_HUB_ID, revision: str | None = None,
                        device: torch.device | str = "cpu") -> "DacVocoder":
        try:
            from transformers import DacModel
        except ImportError as exc:
            raise VocoderError("the DAC vocoder needs transformers: pip install -e '.[zonos2]'") from exc
        try:
            model = DacModel.from_pretrained(source, revision=revision)
        except OSError as exc:
            raise VocoderError(
                f"DAC weights not found ({source} at revision {revision or 'unpinned'}): {exc}. Download "
                f"{DAC_HUB_ID} where you have network and pass its local directory as vocoder."
            ) from exc
        if int(model.config.sampling_rate) != 44100:
            raise VocoderError(f"{source}: sampling_rate is {model.config.sampling_rate}; ZONOS2 needs the 44.1 kHz DAC")
        return cls(model, device)

    @classmethod
    def dummy(cls, device: torch.device | str = "cpu", seed: int = 0) -> "DacVocoder":
        """A random DAC of descript/dac_44khz's size (transformers' DacConfig defaults at 44.1 kHz),
        for speed runs without the weights (``load_format=dummy``)."""
        from transformers import DacConfig, DacModel

        torch.manual_seed(seed)
        return cls(DacModel(DacConfig(sampling_rate=44100)), device)

    @torch.inference_mode()
    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Aligned codes [T, n_codebooks] (values 0..1023) -> float32 PCM [T * hop]."""
        if codes.ndim != 2 or codes.shape[1] != self.n_codebooks:
            raise VocoderError(f"codes must be [T, {self.n_codebooks}], got {codes.shape}")
        if len(codes) == 0:
            return np.zeros(0, dtype=np.float32)
        if codes.min() < 0 or codes.max() > 1023:
            raise VocoderError("codes outside 0..1023: clamp EOA/pad ids before decoding")
        tensor = torch.as_tensor(codes.T[None].copy(), dtype=torch.long, device=self.device)
        audio = self.model.decode(audio_codes=tensor).audio_values
        return audio.reshape(-1).float().cpu().numpy()

    @torch.inference_mode()
    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Float PCM at the DAC's rate -> codes [T, n_codebooks] (for round-trip checks)."""
        tensor = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.device)[None, None]
        codes = self.model.encode(tensor).audio_codes  # [1, n_codebooks, T]
        return codes[0, :self.n_codebooks].T.cpu().numpy()

    def round_trip_snr_db(self, samples: np.ndarray) -> float:
        """Spectral signal-to-error ratio (dB) of encode -> decode of float PCM at the DAC's rate:
        on STFT magnitudes (2048-point, hop 512), because a GAN-trained codec need not keep the
        waveform's phase. Silence out gives 0 dB; a working codec keeps far more signal than error."""
        decoded = self.decode(self.encode(samples))
        n = min(len(samples), len(decoded))

        def magnitude(x: np.ndarray) -> torch.Tensor:
            return torch.stft(torch.as_tensor(np.asarray(x[:n], np.float32)), 2048, 512,
                              window=torch.hann_window(2048), return_complex=True).abs().double()

        signal, rebuilt = magnitude(samples), magnitude(decoded)
        error = float(((signal - rebuilt) ** 2).sum())
        return float(10 * np.log10(float((signal ** 2).sum()) / max(error, 1e-20)))

    def stream(self, pieces: Iterable[tuple[np.ndarray, bool]]) -> Iterator[np.ndarray]:
        """The official server's streamed decode of aligned codes arriving as (codes, final)
        pieces: a chunk is decoded once >= 16 new frames are available, re-decoding 4 frames of
        left context whose samples are crossfaded (raised cosine over the overlap) with the tail
        held back from the previous chunk; the final piece decodes the rest and flushes."""
        buffer = np.zeros((0, self.n_codebooks), dtype=np.int64)
        state = _StreamState()
        for piece, final in pieces:
            buffer = np.concatenate([buffer, piece])
            if final:
                break
            if len(buffer) - state.decoded >= MIN_DECODE_CHUNK:
                yield self._chunk(buffer, len(buffer), state, final=False)
        if len(buffer) > state.decoded:
            yield self._chunk(buffer, len(buffer), state, final=True)
        elif state.tail is not None:  # nothing new: the held tail goes out unchanged
            yield state.tail

    def decode_chunked(self, pieces: Iterable[tuple[np.ndarray, bool]]) -> np.ndarray:
        """The whole utterance as the server's non-streamed response builds it (the same chunked
        decode, chunks concatenated)."""
        chunks = list(self.stream(pieces))
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)

    def _chunk(self, codes: np.ndarray, end: int, state: "_StreamState", final: bool) -> np.ndarray:
        start = max(0, state.decoded - CONTEXT_FRAMES)
        audio = self.decode(codes[start:end]) if end > start else np.zeros(0, np.float32)
        if state.tail is not None:
            overlap = min((state.decoded - start) * self.hop, len(state.tail), len(audio))
            fade = crossfade_window(overlap)
            mixed = state.tail[len(state.tail) - overlap:] * (1 - fade) + audio[:overlap] * fade
            audio = np.concatenate([state.tail[: len(state.tail) - overlap], mixed, audio[overlap:]]).astype(np.float32)
        state.decoded = max(state.decoded, end)
        if final:
            state.tail = None
            return audio
        hold = min(CONTEXT_FRAMES * self.hop, len(audio))
        state.tail = audio[len(audio) - hold:]
        return audio[:len(audio) - hold]


def crossfade_window(length: int) -> np.ndarray:
    """The server's fade-in: 0.5 * (1 - cos(linspace(0, pi, length))), exactly 0 and 1 at the ends."""
    return (0.5 * (1.0 - np.cos(np.linspace(0.0, math.pi, length)))).astype(np.float32)


class _StreamState:
    def __init__(self):
        self.decoded = 0
        self.tail: np.ndarray | None = None
