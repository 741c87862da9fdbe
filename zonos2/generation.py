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
from zonos2.sampler import EOA, SamplingParams, sample_frame
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
    """Prefill on construction; ``step()`` decodes one frame for every active request."""

    @torch.inference_mode()
    def __init__(self, model: Zonos2Model, requests: list[GenerationRequest]):
        config = model.config
        if not requests:
            raise ValueError("no requests")
        for request in requests:
            if request.speaker is not None and tuple(request.speaker.shape) != (config.speaker_embedding_dim,):
                raise ValueError(f"speaker embedding must have shape ({config.speaker_embedding_dim},), "
                                 f"got {tuple(request.speaker.shape)}")
            if len(request.prompt) >= config.max_seqlen:
                raise ValueError(f"prompt of {len(request.prompt)} frames reaches the context limit {config.max_seqlen}")
        self.model, self.requests, self.config = model, requests, config
        self.device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        self.max_frames = [r.params.max_frames or config.max_seqlen - len(r.prompt) for r in requests]
        longest = max(len(r.prompt) + n for r, n in zip(requests, self.max_frames))
        self.cache = KVCache(config.n_layers, len(requests), config.n_kv_heads, min(longest, config.max_seqlen),
                             config.head_dim, dtype, self.device)
        self.generators = [torch.Generator(device=self.device).manual_seed(int(r.params.seed))
                           if r.params.seed is not None else None for r in requests]
        self.last_logits = []
        for row, request in enumerate(requests):  # prefill each request alone
            frames = torch.as_tensor(request.prompt, device=self.device)[None]
            positions = torch.arange(len(request.prompt), device=self.device)[None]
            speaker = request.speaker[None].to(self.device) if request.speaker is not None else None
            logits = model(frames, positions, self.cache, torch.tensor([row], device=self.device), speaker=speaker)
            self.last_logits.append(logits[0, -1])
        n = len(requests)
        self.history = [torch.empty(0, config.n_codebooks, dtype=torch.long, device=self.device) for _ in range(n)]
        self.eos_frame: list[int | None] = [None] * n
        self.countdown: list[int | None] = [None] * n
        self.stop: list[str | None] = [None] * n
        self.position = [len(r.prompt) for r in requests]
        self.active = list(range(n))

    @torch.inference_mode()
    def step(self) -> bool:
        """Sample one frame per active request and feed it back; False once all have stopped."""
        if not self.active:
            return False
        config, codes = self.config, {}
        for i in self.active:
            params = self.requests[i].params
            codes[i] = sample_frame(self.last_logits[i], self.history[i], params, self.generators[i])
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
            if self.stop[i] is None and self.position[i] + 1 >= config.max_seqlen - 1:
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

    def result(self, i: int) -> GenerationResult:
        return GenerationResult(frames=self.history[i].cpu().numpy(), eos_frame=self.eos_frame[i],
                                stop_reason=self.stop[i] or "running")


def generate(model: Zonos2Model, requests: list[GenerationRequest]) -> list[GenerationResult]:
    decoder = BatchDecoder(model, requests)
    while decoder.step():
        pass
    return [decoder.result(i) for i in range(len(requests))]
