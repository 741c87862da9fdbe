"""A codec ceiling row: each ground-truth recording encoded and decoded by a neural codec (the
DAC 44.1 kHz that ZONOS2 generates codes for), scored like any system. No model built on that
codec can do better than its own resynthesis of the real recording, so this row is the upper
bound of WER, similarity, quality and prosody for them (shown under ground truth)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem

DAC_HUB_ID = "descript/dac_44khz"


class CodecResynthesis(TTSSystem):
    name = "codec_resynthesis"
    capabilities = Capabilities(
        clones_from_audio=True,  # the recording's own voice, through the codec
        needs_prompt_text=False,
        languages=None,
        seedable=True,  # encode -> decode is deterministic
        native_sample_rate=44100,
    )

    def __init__(self, codec: str = DAC_HUB_ID, revision: str | None = None, device: str = "cpu"):
        try:
            from zonos2.vocoder import DacVocoder, VocoderError
        except ImportError as exc:
            raise SystemUnavailable(f"codec_resynthesis needs the zonos2 extra: pip install -e '.[zonos2]' ({exc})") from exc
        try:
            self.codec = DacVocoder.from_pretrained(codec, revision, device)
        except VocoderError as exc:
            raise SystemUnavailable(f"codec_resynthesis: {exc}") from exc
        from ztts1_eval.scorers.hub import weight_checksums

        self.source, self.revision = codec, revision
        # a local directory's weights by checksum; a hub id is pinned by its revision
        self.weights_sha256 = weight_checksums(Path(codec)) if Path(codec).is_dir() else {}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "codec": self.source, "revision": self.revision,
                "weights_sha256": self.weights_sha256 or None, "sample_rate": self.codec.sample_rate,
                "n_codebooks": self.codec.n_codebooks}

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        import numpy as np
        import soxr

        from ztts1_eval.core import audio

        if request.gt_wav is None:
            return SynthesisResult.failed(request.item_id, "item has no ground-truth recording (gt_wav) to resynthesize")
        start = time.perf_counter()
        clip = audio.read(request.gt_wav)
        samples = soxr.resample(clip.samples, clip.sample_rate, self.codec.sample_rate, quality="HQ").astype(np.float32)
        decoded = self.codec.decode(self.codec.encode(samples))[:len(samples)]
        return SynthesisResult(item_id=request.item_id, status="ok", samples=np.clip(decoded, -1.0, 1.0),
                               sample_rate=self.codec.sample_rate, latency_s=time.perf_counter() - start,
                               meta={"source": str(request.gt_wav)})
