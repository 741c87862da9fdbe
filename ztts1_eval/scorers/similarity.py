"""What every embedding-based speaker-similarity scorer does the same way: 100 x cosine of the
output's and the clone prompt's embeddings, each distinct prompt embedded once per run (keyed by
its samples and rate), and a clip that cannot be embedded recorded as that item's failure."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from ztts1_eval.core.audio import Audio
from ztts1_eval.scorers.base import ScoreInput, ScoreOutput, Scorer


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return float(np.dot(a64, b64) / (np.linalg.norm(a64) * np.linalg.norm(b64)))


class EmbeddingSimilarity(Scorer):
    """Subclasses set ``self._model`` in ``load()`` and implement ``embed_clip``."""

    _prompt_embeddings: dict[str, np.ndarray]

    def embed_clip(self, clip: Audio) -> np.ndarray:
        raise NotImplementedError

    def _prompt_embedding(self, clip: Audio) -> np.ndarray:
        samples = np.ascontiguousarray(clip.samples, dtype=np.float32)
        key = hashlib.sha256(samples.tobytes() + str(clip.sample_rate).encode()).hexdigest()
        if key not in self._prompt_embeddings:
            self._prompt_embeddings[key] = self.embed_clip(clip)
        return self._prompt_embeddings[key]

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                a = self.embed_clip(item.audio)
                b = self._prompt_embedding(item.reference)
            except Exception as exc:  # noqa: BLE001 - too short; out of GPU memory on one long clip
                reason = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
                outputs.append(ScoreOutput(status="failed", reason=reason))
                continue
            outputs.append(ScoreOutput(values={"sim": 100.0 * cosine(a, b)}))
        return outputs

    def close(self) -> None:
        self._model = None
        self._prompt_embeddings.clear()
