"""Write a tiny random HuBERT (transformers ``save_pretrained`` format) and a k-means unit file
in DS-WED's format (a joblib pickle of a fitted scikit-learn MiniBatchKMeans)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_hubert(directory: Path, layers: int = 8, hidden: int = 16, seed: int = 0) -> Path:
    import torch
    from transformers import HubertConfig, HubertModel

    torch.manual_seed(seed)
    config = HubertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                          intermediate_size=2 * hidden, conv_dim=(8,) * 7, num_conv_pos_embeddings=16,
                          num_conv_pos_embedding_groups=2)
    HubertModel(config).save_pretrained(directory)
    return directory


def write_kmeans(path: Path, clusters: int, hidden: int = 16, seed: int = 0) -> Path:
    import joblib
    from sklearn.cluster import MiniBatchKMeans

    frames = np.random.default_rng(seed).normal(size=(40 * clusters, hidden)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(MiniBatchKMeans(n_clusters=clusters, random_state=seed, n_init=3).fit(frames), path)
    return path
