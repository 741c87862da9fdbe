"""The paper's "Ground truth" row: the reference recordings themselves, decoded losslessly
to WAV at their own sample rate."""

from __future__ import annotations

import time

from systems.base import Capabilities, SynthesisRequest, SynthesisResult, TTSSystem
from ztts1_eval.core import audio


class GroundTruth(TTSSystem):
    name = "ground_truth"
    capabilities = Capabilities(
        clones_from_audio=True,  # the recording *is* the speaker
        needs_prompt_text=False,
        languages=None,
        seedable=True,  # trivially deterministic
        native_sample_rate=None,
    )

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        if request.gt_wav is None:
            return SynthesisResult.failed(request.item_id, "item has no ground-truth recording (gt_wav)")
        start = time.perf_counter()
        clip = audio.read(request.gt_wav)
        return SynthesisResult(
            item_id=request.item_id,
            status="ok",
            samples=clip.samples,
            sample_rate=clip.sample_rate,
            latency_s=time.perf_counter() - start,
            meta={"source": str(request.gt_wav)},
        )
