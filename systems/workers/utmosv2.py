"""Worker for UTMOSv2 (Baba et al., 2024) through its official package, the
:mod:`ztts1_eval.scorers.utmosv2` scorer's model.

The package (``hyperion-utmosv2`` on PyPI, byte-identical to sarulab-speech/UTMOSv2 1.3.1, or
``utmosv2`` installed from GitHub) pins numpy < 2, torch <= 2.9.1 and transformers < 5 and imports
torchaudio and torchvision, so it runs in its own environment, ``.venv-utmosv2``
(``make scorer-env``). Run as ``python -m systems.workers.utmosv2``.

The model is built as ``utmosv2.create_model`` builds it (the config module as a namespace,
``configure_execution``, ``UTMOSv2Model(cfg)``), then each fold checkpoint is loaded with strict
keys. One deliberate difference: the constructor would first fetch ImageNet weights for the timm
backbones and ``facebook/wav2vec2-base``'s weights from the hub, which the strict load then
overwrites entirely; here the backbones are built from their configs alone, so only the SSL
model's two config files are needed offline. The worker refuses to start if any buffer is not
in the checkpoint, so no value can come from the skipped initial weights.

Scoring is ``UTMOSv2Model.predict(input_path=...)``, the package's quick prediction: the file is
read and resampled by librosa as the package does, silent sections removed, random 3 s (SSL) and
1.4 s (spectrogram) crops. The crops are random, so numpy's and torch's generators are seeded
with ``seed`` before each fold's prediction of each item: an item's score depends neither on its
order or shard nor on which other folds are averaged.

Request: ``{"item_id", "audio": path}``. Answer: ``{"results": [{"mos", "folds"}]}``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import random
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from systems.workers.serve import pick_device, serve, set_threads, versions

DISTRIBUTIONS = ("hyperion-utmosv2", "utmosv2")  # PyPI fork, upstream from GitHub
MIN_VERSION = (1, 3)


def _require_package() -> str:
    found = versions(*DISTRIBUTIONS)
    for name in DISTRIBUTIONS:
        if found[name]:
            if tuple(int(p) for p in found[name].split(".")[:2]) < MIN_VERSION:
                raise ImportError(f"{name}>=1.3 needed, found {found[name]} in {sys.executable}")
            return name
    raise ImportError(f"neither hyperion-utmosv2 nor utmosv2 is installed in {sys.executable}")


def load_config(config: str) -> SimpleNamespace:
    """An official config by name (``utmosv2.config.<name>``) or a config file of that format,
    as a namespace, the way ``create_model`` makes it."""
    from utmosv2._settings import configure_execution

    if config.endswith(".py"):
        spec = importlib.util.spec_from_file_location(f"utmosv2_user_config_{Path(config).stem}", config)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"config file {config} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(f"utmosv2.config.{config}")
    cfg = SimpleNamespace(**{k: v for k, v in module.__dict__.items() if not k.startswith("__")})
    configure_execution(cfg)
    return cfg


class _BuiltFromConfig:
    """Stands in for ``timm.create_model`` and transformers' ``AutoModel`` / ``AutoFeatureExtractor``
    while the model is constructed: same classes and shapes, no pretrained weights fetched (the
    fold checkpoint replaces every one of them), SSL configs read from ``ssl_dir``."""

    def __init__(self, ssl_dir: str):
        import timm
        import utmosv2.model.multi_spec as multi_spec
        import utmosv2.model.ssl as ssl
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        self.ssl_dir = ssl_dir
        self._timm, self._multi_spec, self._ssl = timm, multi_spec, ssl
        self._auto = (AutoConfig, AutoFeatureExtractor, AutoModel)
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        AutoConfig, AutoFeatureExtractor, AutoModel = self._auto
        real_create = self._timm.create_model
        ssl_dir = self.ssl_dir

        def create_model(name: str, *args: Any, pretrained: bool = False, **kwargs: Any):
            return real_create(name, *args, pretrained=False, **kwargs)

        class Model:
            @staticmethod
            def from_pretrained(name: str, **kwargs: Any):
                return AutoModel.from_config(AutoConfig.from_pretrained(ssl_dir))

        class Extractor:
            @staticmethod
            def from_pretrained(name: str, **kwargs: Any):
                return AutoFeatureExtractor.from_pretrained(ssl_dir)

        for owner, attr, value in ((self._timm, "create_model", create_model), (self._ssl, "AutoModel", Model),
                                   (self._ssl, "AutoFeatureExtractor", Extractor)):
            self._saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, value)

    def __exit__(self, *exc: Any) -> None:
        for owner, attr, value in reversed(self._saved):
            setattr(owner, attr, value)
        self._saved.clear()


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


class UTMOSv2Engine:
    settings = {"checkpoints", "config", "ssl_dir", "predict_dataset", "num_repetitions", "remove_silent_section",
                "seed"}

    def __init__(self, settings: dict[str, Any]):
        package = _require_package()
        import torch
        from utmosv2._core.model import UTMOSv2Model
        from utmosv2.dataset._utils import get_dataset_map

        threads = set_threads(settings.get("threads"))
        self.device = pick_device(settings.get("device"))
        self.config = str(settings.get("config") or "fusion_stage3")
        self.predict_dataset = str(settings.get("predict_dataset") or "sarulab")
        self.num_repetitions = int(settings.get("num_repetitions") or 1)
        self.remove_silent_section = bool(settings.get("remove_silent_section", True))
        self.seed = int(settings.get("seed", 0))
        checkpoints = [str(p) for p in settings["checkpoints"]]
        if not checkpoints:
            raise ValueError("no fold checkpoint given")
        self.models = []
        for path in checkpoints:
            cfg = load_config(self.config)
            if self.predict_dataset not in get_dataset_map(cfg):
                raise ValueError(f"predict_dataset {self.predict_dataset!r} is not one of {sorted(get_dataset_map(cfg))}")
            with _BuiltFromConfig(str(settings["ssl_dir"])):
                model = UTMOSv2Model(cfg)
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)  # strict: every parameter and persistent buffer
            loose = sorted({name for name, _ in model._model.named_buffers()} - set(state))
            if loose:
                raise RuntimeError(f"{path}: buffers {loose[:5]} are not in the checkpoint, so they would keep the "
                                   "values of weights this worker does not fetch")
            self.models.append(model.eval())
        self.info = {
            "packages": versions(package, "torch", "timm", "transformers", "librosa", "numpy"),
            "config": self.config,
            "config_sha256": _sha256(self.config) if self.config.endswith(".py") else None,
            "model_class": type(self.models[0]._model).__name__,
            "ssl_model": self.models[0]._cfg.model.ssl.name,
            "backbone": self.models[0]._cfg.model.multi_spec.backbone,
            "checkpoints_sha256": {Path(p).name: _sha256(p) for p in checkpoints},
            "predict_dataset": self.predict_dataset,
            "num_repetitions": self.num_repetitions,
            "remove_silent_section": self.remove_silent_section,
            "seed": self.seed,
            "device": self.device,
            "precision": "fp16 autocast (the package's torch.cuda.amp.autocast)" if self.device.startswith("cuda")
            else "float32",
            "construction": "backbones built from their configs; every weight from the fold checkpoint (strict)",
            "torch_threads": threads,
        }

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        import numpy as np
        import torch

        folds = []
        for model in self.models:  # each fold from the same seed: its score does not depend on the others
            random.seed(self.seed)
            np.random.seed(self.seed)
            torch.manual_seed(self.seed)
            folds.append(float(model.predict(input_path=request["audio"], device=self.device, num_workers=0,
                                             batch_size=1, num_repetitions=self.num_repetitions,
                                             predict_dataset=self.predict_dataset,
                                             remove_silent_section=self.remove_silent_section, verbose=False)))
        if not all(np.isfinite(folds)):
            raise ValueError(f"the model returned a non-finite MOS {folds}")
        return {"results": [{"mos": float(np.mean(folds)), "folds": folds}]}


if __name__ == "__main__":
    sys.exit(serve(UTMOSv2Engine))
