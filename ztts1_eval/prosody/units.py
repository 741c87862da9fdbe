"""Discrete speech units: HuBERT hidden states at one layer, assigned to k-means centroids.

Used by DS-WED (HuBERT-base layer 8, 50 units from ``yfyeung/kmeans-librispeech-hubert-base``).
The HuBERT model is a transformers ``save_pretrained`` directory or a hub id at a pinned revision;
its input is the raw 16 kHz waveform without per-utterance normalization (DS-WED sets the
feature extractor's ``do_normalize`` to False). ``layer`` indexes ``hidden_states`` (0 = the
convolutional front end's projection, 8 = the 8th transformer layer).

The k-means file is a joblib pickle of a scikit-learn estimator (``.predict(frames)``), as DS-WED
publishes it (``{model}-layer-{layer}.kmeans.{vocab}.model``). Unpickling runs code from the file,
so it is only loaded from a file the user names or from the pinned hub repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


@dataclass
class UnitExtractor:
    model_dir: Path
    kmeans_path: Path
    layer: int
    device: str = "cpu"

    def __post_init__(self):
        import joblib
        import torch
        from transformers import AutoModel

        self.model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True,
                                               dtype=torch.float32).to(self.device).eval()
        n_layers = self.model.config.num_hidden_layers
        if not 0 <= self.layer <= n_layers:
            raise ValueError(f"layer {self.layer} does not exist ({self.model_dir} has {n_layers} layers)")
        self.kmeans = joblib.load(self.kmeans_path)
        n_features = getattr(self.kmeans, "n_features_in_", None)
        if n_features is not None and n_features != self.model.config.hidden_size:
            raise ValueError(f"k-means {self.kmeans_path.name} expects {n_features}-D frames, the model gives "
                             f"{self.model.config.hidden_size}-D")
        self._torch = torch

    @property
    def vocab(self) -> int:
        return int(self.kmeans.cluster_centers_.shape[0])

    def features(self, samples: np.ndarray) -> np.ndarray:
        """(frames, hidden) at ``layer`` for one unpadded utterance."""
        torch = self._torch
        wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self.device)
        with torch.inference_mode():
            out = self.model(wav, output_hidden_states=True)
        return out.hidden_states[self.layer][0].float().cpu().numpy()

    def units(self, samples: np.ndarray) -> np.ndarray:
        frames = self.features(samples)
        if frames.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.kmeans.predict(frames.astype(self.kmeans.cluster_centers_.dtype)), dtype=np.int64)
