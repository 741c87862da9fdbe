"""Speaker similarity with Resemblyzer's GE2E encoder (weights bundled in its wheel).

SIM = 100 x cosine(embedding(output), embedding(clone prompt)). The paper uses ReDimNet;
this is the offline stand-in of the ``lite`` stack and is named as such in every result.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable


class ResemblyzerSimilarity(Scorer):
    type_name = "resemblyzer_sim"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=True,
        kind="utterance",
        sample_rate=16000,
        languages=None,
        metrics=(Metric("sim", "Spk. sim.", higher_is_better=True, decimals=1, worst=0.0),),
    )

    def __init__(self, batch_size: int = 16, device: str = "auto"):
        try:
            import resemblyzer
        except ImportError as exc:
            raise ScorerUnavailable("resemblyzer_sim: install the lite extra: pip install -e '.[lite]'") from exc
        self._module = resemblyzer
        self.batch_size = batch_size
        self.device = device
        self._encoder = None
        self._weights = Path(resemblyzer.__file__).parent / "pretrained.pt"
        if not self._weights.is_file():
            raise ScorerUnavailable(f"resemblyzer_sim: bundled weights missing at {self._weights}; reinstall resemblyzer")

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": "resemblyzer GE2E (bundled pretrained.pt)",
            "package": f"resemblyzer=={version('resemblyzer')}",
            "model_sha256": tree_sha256(self._weights),
            "preprocess": "resemblyzer.preprocess_wav (VAD trim, volume normalization) at 16 kHz",
            "device": self._device(),  # GPU and CPU kernels differ in the last digits
            "sample_rate": self.info.sample_rate,
        }

    def _device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def load(self) -> None:
        self._encoder = self._module.VoiceEncoder(device=self._device(), verbose=False)

    def _embed(self, samples: np.ndarray) -> np.ndarray:
        wav = self._module.preprocess_wav(samples, source_sr=self.info.sample_rate)
        if wav.size == 0:
            raise ValueError("no speech left after voice-activity trimming")
        return self._encoder.embed_utterance(wav)

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                a = self._embed(item.audio.samples)
                b = self._embed(item.reference.samples)
            except ValueError as exc:
                outputs.append(ScoreOutput(status="failed", reason=str(exc)))
                continue
            cosine = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            outputs.append(ScoreOutput(values={"sim": 100.0 * cosine}))
        return outputs

    def close(self) -> None:
        self._encoder = None
