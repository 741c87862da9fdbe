"""A tiny UTMOSv2 in the official formats, written by the official package (run with the
UTMOSv2 environment's interpreter: ``.venv-utmosv2/bin/python tests/tiny_utmosv2.py OUT``).

- ``OUT/tiny_fusion.py``: the official ``fusion_stage3`` config with timm's 0.1 M-parameter
  ``test_efficientnet`` as the spectrogram backbone (every other setting is the official one);
- ``OUT/wav2vec2/``: a wav2vec2 config (hidden size 768, as ``facebook/wav2vec2-base``, which
  the model's code requires; two layers) and its feature extractor config;
- ``OUT/fold0_s42_best_model.pth`` and ``fold1_s42_best_model.pth``: ``torch.save`` of the
  model's state dict with seeded random weights, as the package's training writes them.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG = '''"""fusion_stage3 with a tiny spectrogram backbone (tests only)."""
import copy as _copy

from utmosv2.config.fusion_stage3 import *  # noqa: F401,F403
from utmosv2.config.fusion_stage3 import model as _model

model = _copy.deepcopy(_model)
model.multi_spec.backbone = "test_efficientnet"
'''


def write(out: Path) -> None:
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from systems.workers.utmosv2 import _BuiltFromConfig, load_config
    from utmosv2._core.model import UTMOSv2Model

    out.mkdir(parents=True, exist_ok=True)
    (out / "tiny_fusion.py").write_text(CONFIG, encoding="utf-8")
    ssl = out / "wav2vec2"
    Wav2Vec2Config(hidden_size=768, num_hidden_layers=2, num_attention_heads=12, intermediate_size=64,
                   conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
                   num_conv_pos_embedding_groups=16).save_pretrained(ssl)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=False).save_pretrained(ssl)
    for fold in (0, 1):
        torch.manual_seed(fold)
        with _BuiltFromConfig(str(ssl)):
            model = UTMOSv2Model(load_config(str(out / "tiny_fusion.py")))
        with torch.no_grad():
            for tensor in model._model.state_dict().values():
                if tensor.is_floating_point():
                    tensor.add_(torch.randn_like(tensor) * 0.02)
        torch.save(model.state_dict(), out / f"fold{fold}_s42_best_model.pth")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
