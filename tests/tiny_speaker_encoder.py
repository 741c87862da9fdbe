"""A ZONOS2 speaker-encoder snapshot in the release layout (remote code + weights), tiny and
random: for tests of the runner's and the server's cloning paths."""

import importlib.util
import json
import sys

TINY_ENCODER = '''
import torch
from transformers import PretrainedConfig, PreTrainedModel


class TinyConfig(PretrainedConfig):
    model_type = "tiny_speaker"

    def __init__(self, out_dim=2048, **kwargs):
        self.out_dim = out_dim
        super().__init__(**kwargs)


class TinyEncoder(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = torch.nn.Linear(128, config.out_dim)
        self.post_init()

    def forward(self, features):  # [1, frames, 128] log-mel -> [1, out_dim]
        return self.proj(features.mean(dim=1))
'''


def write_tiny_encoder(path, out_dim: int = 2048):
    """A speaker-encoder snapshot in the release layout (remote code + weights), random weights."""
    path.mkdir()
    (path / "modeling_tiny.py").write_text(TINY_ENCODER)
    spec = importlib.util.spec_from_file_location(f"modeling_tiny_{out_dim}", path / "modeling_tiny.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.TinyEncoder(module.TinyConfig(out_dim=out_dim)).save_pretrained(path)
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "modeling_tiny.TinyConfig", "AutoModel": "modeling_tiny.TinyEncoder"}
    (path / "config.json").write_text(json.dumps(config))
    return path
