"""A tiny openai-whisper checkpoint in the package's real file format (``{"dims", "model_state_dict"}``,
what ``whisper.load_model`` reads from ``large-v3.pt``): large-v3's mel bins and vocabulary, tiny
widths, a short text context so that random weights decode quickly; random weights, seeded."""

from __future__ import annotations

import dataclasses
from pathlib import Path


def write(path: Path, seed: int = 0) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(n_mels=128, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=2,
                           n_vocab=51866, n_text_ctx=24, n_text_state=32, n_text_head=2, n_text_layer=2)
    torch.manual_seed(seed)
    model = Whisper(dims)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
