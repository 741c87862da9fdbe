"""Batched prefill + KV-cache decode with the official end-of-audio rule (reference §4.1, §4.3).

Each request is prefilled on its own (exactly as when run alone), then all active requests
decode together, one frame per step, each at its own position, with its own sampling
parameters and seeded generator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from zonos2.kv_cache import KVCache
from zonos2.model import Zonos2Model
from zonos2.sampler import EOA, SamplingParams, sample_frames
from zonos2.shear import deshear

EOS_COUNTDOWN_EXTRA = 1  # countdown starts at n_codebooks + 1


@dataclass
class GenerationRequest:
    prompt: np.ndarray  # [P, n_codebooks + 1]
    params: SamplingParams = field(default_factory=SamplingParams)
    speaker: torch.Tensor | None = None  # [speaker_embedding_dim]


@dataclass
class GenerationResult:
    frames: np.ndarray  # generated (sheared) frames [N, n_codebooks]
    eos_frame: int | None  # aligned frame where audio ends; None if no end-of-audio was sampled
    stop_reason: str  # "eos" | "max_frames" | "context"

    def aligned_codes(self, n_delay: int) -> np.ndarray:
        """De-sheared codes [T, n_codebooks] cut at the end of audio, clamped to the codebook
        range for the vocoder. Without an end of audio every generated frame is kept, as the
        official server does (its delayed codebooks' missing codes are the pad, clamped to 1023)."""
        aligned = deshear(self.frames)
        end = self.eos_frame if self.eos_frame is not None else len(self.frames)
        return np.minimum(aligned[:end], EOA - 1)

    def final_piece(self, sent: int, n_delay: int) -> np.ndarray:
        """What the server decodes with the last frame, ``sent`` frames having been streamed:
        the rest up to the end of audio (every frame without one); nothing for a stream too
        short to have had a decodable frame."""
        aligned = np.minimum(deshear(self.frames), EOA - 1)
        if sent == 0 and decodable_frames(len(self.frames), self.eos_frame, n_delay) == 0:
            return aligned[:0]
        return aligned[sent:self.eos_frame if self.eos_frame is not None else len(self.frames)]

    def server_pieces(self, n_delay: int) -> Iterator[tuple[np.ndarray, bool]]:
        """The aligned codes in the pieces the official server's detokenizer decodes them: after
        each frame but the last, what became decodable; then the final piece."""
        aligned = np.minimum(deshear(self.frames), EOA - 1)
        sent = 0
        for t in range(1, len(self.frames)):
            limit = decodable_frames(t, self.eos_frame, n_delay)
            if limit > sent:
                yield aligned[sent:limit], False
                sent = limit
        yield self.final_piece(sent, n_delay), True


def decodable_frames(n_frames: int, eos_frame: int | None, n_delay: int) -> int:
    """Aligned frames defined in every codebook once ``n_frames`` were generated, cut at the end
    of audio (an EOS is sampled at least ``n_delay`` frames after its aligned frame, so the cut
    never reaches back)."""
    cap = eos_frame if eos_frame is not None else n_frames
    return max(0, min(n_frames - n_delay, cap))


class BatchDecoder:
    """Prefill on construction; ``step()`` decodes one frame for every active request.

    With ``slots`` (a server's continuous batching) the cache has that many rows and
    ``admit()`` prefills a new request into a free row while the others keep decoding;
    ``release()`` frees a finished or cancelled row. Each row computes what it would alone."""

    @torch.inference_mode()
    def __init__(self, model: Zonos2Model, requests: list[GenerationRequest] | None = None, slots: int | None = None,
                 max_len: int | None = None):
        config = model.config
        requests = list(requests or [])
        slots = slots or len(requests)
        if not slots:
            raise ValueError("no requests")
        for request in requests:
            self._check(config, request)
        self.model, self.config = model, config
        self.device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        if max_len is None:
            longest = max((len(r.prompt) + (r.params.max_frames or config.max_seqlen - len(r.prompt)) for r in requests),
                          default=config.max_seqlen)
            max_len = min(longest, config.max_seqlen)
        self.cache = KVCache(config.n_layers, slots, config.n_kv_heads, min(max_len, config.max_seqlen),
                             config.head_dim, dtype, self.device)
        self.requests: list[GenerationRequest | None] = [None] * slots
        self.max_frames: list[int] = [0] * slots
        self.generators: list[torch.Generator | None] = [None] * slots
        self.last_logits: list[torch.Tensor | None] = [None] * slots
        self.history: list[torch.Tensor] = [torch.empty(0, config.n_codebooks, dtype=torch.long)] * slots
        self.eos_frame: list[int | None] = [None] * slots
        self.countdown: list[int | None] = [None] * slots
        self.stop: list[str | None] = [None] * slots
        self.position = [0] * slots
        self.active: list[int] = []
        self.free = list(range(slots))
        for request in requests:  # prefill each request alone
            self.admit(request)

    @staticmethod
    def _check(config, request: GenerationRequest) -> None:
        if request.speaker is not None and tuple(request.speaker.shape) != (config.speaker_embedding_dim,):
            raise ValueError(f"speaker embedding must have shape ({config.speaker_embedding_dim},), "
                             f"got {tuple(request.speaker.shape)}")
        if len(request.prompt) >= config.max_seqlen:
            raise ValueError(f"prompt of {len(request.prompt)} frames reaches the context limit {config.max_seqlen}")

    @torch.inference_mode()
    def admit(self, request: GenerationRequest) -> int:
        """Prefill ``request`` alone into a free row; it decodes from the next ``step()`` on."""
        self._check(self.config, request)
        if not self.free:
            raise RuntimeError("no free slot")
        if len(request.prompt) >= self.cache.max_len:
            raise ValueError(f"prompt of {len(request.prompt)} frames does not fit the {self.cache.max_len}-frame cache")
        row = self.free.pop(0)
        frames = torch.as_tensor(request.prompt, device=self.device)[None]
        positions = torch.arange(len(request.prompt), device=self.device)[None]
        speaker = request.speaker[None].to(self.device) if request.speaker is not None else None
        logits = self.model(frames, positions, self.cache, torch.tensor([row], device=self.device), speaker=speaker)
        self.requests[row] = request
        self.max_frames[row] = request.params.max_frames or self.config.max_seqlen - len(request.prompt)
        self.generators[row] = (torch.Generator(device=self.device).manual_seed(int(request.params.seed))
                                if request.params.seed is not None else None)
        self.last_logits[row] = logits[0, -1]
        self.history[row] = torch.empty(0, self.config.n_codebooks, dtype=torch.long, device=self.device)
        self.eos_frame[row] = self.countdown[row] = self.stop[row] = None
        self.position[row] = len(request.prompt)
        self.active = sorted(self.active + [row])  # consecutive rows read the cache as a view
        return row

    def release(self, row: int) -> None:
        """Free a row (finished, or cancelled mid-decode)."""
        if row in self.active:
            self.active.remove(row)
            self.stop[row] = self.stop[row] or "cancelled"
        if row not in self.free:
            self.free.append(row)

    @torch.inference_mode()
    def step(self) -> bool:
        """Sample one frame per active request and feed it back; False once all have stopped."""
        if not self.active:
            return False
        config = self.config
        sampled = sample_frames(torch.stack([self.last_logits[i] for i in self.active]),
                                [self.history[i] for i in self.active],
                                [self.requests[i].params for i in self.active],
                                [self.generators[i] for i in self.active])
        codes = dict(zip(self.active, sampled))
        for i in self.active:
            params = self.requests[i].params
            self.history[i] = torch.cat([self.history[i], codes[i][None]])
            if not params.ignore_eos:
                hits = (codes[i] == EOA).nonzero().flatten()
                if self.countdown[i] is None and len(hits):
                    # Align by the highest codebook that sampled EOA at this step.
                    self.eos_frame[i] = max(0, len(self.history[i]) - 1 - int(hits.max()))
                    self.countdown[i] = config.n_codebooks + EOS_COUNTDOWN_EXTRA
                if self.countdown[i] is not None:
                    self.countdown[i] -= 1
                    if self.countdown[i] == 0:
                        self.stop[i] = "eos"
            if self.stop[i] is None and len(self.history[i]) >= self.max_frames[i]:
                self.stop[i] = "max_frames"
            if self.stop[i] is None and self.position[i] + 1 >= min(config.max_seqlen - 1, self.cache.max_len):
                self.stop[i] = "context"
        self.active = [i for i in self.active if self.stop[i] is None]
        if not self.active:
            return False
        pad = torch.tensor([config.text_pad_id], device=self.device)
        frames = torch.stack([torch.cat([codes[i], pad]) for i in self.active])[:, None, :]
        positions = torch.tensor([[self.position[i]] for i in self.active], device=self.device)
        logits = self.model(frames, positions, self.cache, torch.tensor(self.active, device=self.device))
        for j, i in enumerate(self.active):
            self.last_logits[i] = logits[j, -1]
            self.position[i] += 1
        return True

    def new_piece(self, row: int, sent: int, n_delay: int) -> tuple[np.ndarray | None, int]:
        """The aligned codes of ``row`` that became decodable since ``sent`` frames were handed
        on (None when nothing did), and the new count: what a streaming server sends per step."""
        frames = self.history[row].cpu().numpy()
        limit = decodable_frames(len(frames), self.eos_frame[row], n_delay)
        if limit <= sent:
            return None, sent
        return np.minimum(deshear(frames)[sent:limit], EOA - 1), limit

    def result(self, i: int) -> GenerationResult:
        return GenerationResult(frames=self.history[i].cpu().numpy(), eos_frame=self.eos_frame[i],
                                stop_reason=self.stop[i] or "running")


def generate(model: Zonos2Model, requests: list[GenerationRequest]) -> list[GenerationResult]:
    decoder = BatchDecoder(model, requests)
    while decoder.step():
        pass
    return [decoder.result(i) for i in range(len(requests))]
