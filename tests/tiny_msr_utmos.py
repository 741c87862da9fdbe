"""Write a tiny MSR-UTMOS pair in the release formats:

- a backbone snapshot whose model class ships as code inside the directory (``auto_map`` +
  ``modeling_*.py`` + ``model.safetensors``), saved with transformers' own custom-code flow and
  exposing the SFI interface the scorer relies on (``set_sample_rate``, ``input_values`` ->
  ``last_hidden_state``). It is NOT the SFI network (whose code is unpublished): it frames the
  waveform by milliseconds, so it behaves differently at each rate, which is all the test needs;
- a Lightning-style MOS checkpoint: ``state_dict`` with the fine-tuned backbone under
  ``ssl_model.`` and the head ``pred_liner.{0,2}`` + ``listenr_embedding``, ``hyper_parameters``
  naming the backbone, and the training-state entries Lightning adds.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

HIDDEN = 16
N_LISTENERS = 12
MODELING = '''
import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput


class TinySfiConfig(PretrainedConfig):
    model_type = "tiny_sfi_test"

    def __init__(self, hidden_size=16, frame_ms=20.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.frame_ms = frame_ms


class TinySfiModel(PreTrainedModel):
    config_class = TinySfiConfig
    base_model_prefix = "tiny_sfi"

    def __init__(self, config):
        super().__init__(config)
        self.feature_projection = nn.Linear(3, config.hidden_size)
        self.encoder = nn.Linear(config.hidden_size, config.hidden_size)
        self.sample_rate = 16000
        self.post_init()

    def set_sample_rate(self, sample_rate):
        self.sample_rate = int(sample_rate)

    def forward(self, input_values, **kwargs):
        hop = int(self.sample_rate * self.config.frame_ms / 1000)
        usable = input_values.shape[1] // hop * hop
        frames = input_values[:, :usable].reshape(input_values.shape[0], -1, hop)
        features = torch.stack([frames.mean(-1), frames.std(-1), frames.abs().amax(-1)], dim=-1)
        hidden = self.encoder(torch.nn.functional.gelu(self.feature_projection(features)))
        return BaseModelOutput(last_hidden_state=hidden)
'''


def _load_module(path: Path):
    # The module name must be the file's stem: transformers writes it into config.json's auto_map.
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_backbone(directory: Path, seed: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    source = directory.parent / f"{directory.name}_src" / "modeling_tiny_sfi.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(MODELING)
    module = _load_module(source)
    torch.manual_seed(seed)
    module.TinySfiConfig.register_for_auto_class()
    module.TinySfiModel.register_for_auto_class("AutoModel")
    model = module.TinySfiModel(module.TinySfiConfig(hidden_size=HIDDEN))
    model.save_pretrained(directory)  # writes config.json with auto_map, the code, model.safetensors
    return directory


def backbone_module(directory: Path):
    """The backbone's class, imported straight from the snapshot (for independent expectations)."""
    return _load_module(directory / "modeling_tiny_sfi.py")


def write_checkpoint(path: Path, backbone_dir: Path, seed: int = 1, legacy_head: bool = False,
                     backbone_name: str | None = None) -> Path:
    """A MOS checkpoint whose fine-tuned backbone weights differ from the snapshot's."""
    from safetensors.torch import load_file

    generator = torch.Generator().manual_seed(seed)
    snapshot = load_file(str(backbone_dir / "model.safetensors"))
    state = {f"ssl_model.{k}": v + 0.05 * torch.randn(v.shape, generator=generator) for k, v in snapshot.items()}
    if legacy_head:
        state["pred_liner.weight"] = 0.3 * torch.randn(1, HIDDEN, generator=generator)
        state["pred_liner.bias"] = torch.zeros(1)
    else:
        state["pred_liner.0.weight"] = 0.3 * torch.randn(HIDDEN, HIDDEN, generator=generator)
        state["pred_liner.0.bias"] = 0.1 * torch.randn(HIDDEN, generator=generator)
        state["pred_liner.2.weight"] = 0.3 * torch.randn(1, HIDDEN, generator=generator)
        state["pred_liner.2.bias"] = torch.tensor([0.2])
    state["listenr_embedding.weight"] = 0.5 * torch.randn(N_LISTENERS, HIDDEN, generator=generator)
    torch.save({
        "epoch": 3, "global_step": 1200, "pytorch-lightning_version": "2.5.1.post0",
        "state_dict": state,
        "hyper_parameters": {"ssl_model_path": backbone_name or str(backbone_dir),
                             "pretrained_model_path": "/home/someone/bvcc/epoch=03-val_loss=0.00.ckpt",
                             "processor_path": "facebook/wav2vec2-base", "condition_sr": False},
        "optimizer_states": [{"state": {0: {"z": torch.zeros(3)}}, "param_groups": [{"lr": 2e-5}]}],
        "lr_schedulers": [], "callbacks": {}, "loops": {},
    }, path)
    return path
