"""Allosaurus phone rate, the TTSDS2 prosody benchmark on speaking rate in phones per second.

As TTSDS2 computes it: the utterance (22.05 kHz) is written as a 16-bit WAV, Allosaurus
recognizes universal (IPA) phones with timestamps, and the rate is the number of phones it
emits divided by the duration (0 when it emits none). Allosaurus resamples to its model's rate
itself (resampy).

Allosaurus (GPL-3.0) is an optional extra (``pip install -e '.[allosaurus]'``). Its
``read_recognizer`` downloads a model whenever its package directory holds none, even when given
another path, so the recognizer is assembled here from a local model directory with
Allosaurus's own readers (preprocessing, acoustic and phone models) and nothing is downloaded.
"""

from __future__ import annotations

import tempfile
import warnings
from argparse import Namespace
from pathlib import Path

import numpy as np
import soundfile as sf

ALLOSAURUS_RATE_VERSION = "1"
# What a release directory holds (the readers open each of these).
MODEL_FILES = ("pm_config.json", "am_config.json", "lm_config.json", "model.pt", "phone.txt", "inventory/index.json")
RELEASE_URL = "https://github.com/xinjli/allosaurus/releases/download/v1.0/{name}.tar.gz"


def locate(model: str) -> Path | None:
    """``model`` as a directory, else ``$ZTTS1_MODELS_DIR/allosaurus/<model>``, else the
    package's own ``pretrained/<model>`` (where ``python -m allosaurus.bin.download_model``
    puts it); None when none of them exists."""
    from ztts1_eval.scorers.hub import models_dir

    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if "/" in model or model.startswith("."):
        return None
    candidates = [models_dir() / "allosaurus" / model] if models_dir() else []
    try:
        import importlib.util

        spec = importlib.util.find_spec("allosaurus")
        if spec is not None and spec.origin:
            candidates.append(Path(spec.origin).parent / "pretrained" / model)
    except ImportError:
        pass
    return next((c for c in candidates if c.is_dir()), None)


def download_hint(model: str) -> str:
    from ztts1_eval.scorers.hub import MODELS_DIR_ENV, models_dir

    base = models_dir() or Path("/models")
    return (f"fetch it where you have network: `mkdir -p {base}/allosaurus && curl -L "
            f"{RELEASE_URL.format(name=model)} | tar -xz -C {base}/allosaurus` and set {MODELS_DIR_ENV}={base}, "
            f"or set scorers.run.prosody.allosaurus_model=<model directory>")


def missing_files(model_dir: Path) -> list[str]:
    return [name for name in MODEL_FILES if not (Path(model_dir) / name).is_file()]


def device_id(device: str) -> int:
    """Allosaurus's device convention: -1 = CPU, else the CUDA device index."""
    if device == "cpu":
        return -1
    return int(device.split(":")[1]) if ":" in device else 0


class PhoneRate:
    def __init__(self, model_dir: Path, device: str = "cpu"):
        with warnings.catch_warnings():  # its preprocessing module has an `is` comparison to a str literal
            warnings.simplefilter("ignore", SyntaxWarning)
            from allosaurus.am.factory import read_am
            from allosaurus.app import Recognizer
            from allosaurus.lm.factory import read_lm
            from allosaurus.pm.factory import read_pm

        model_dir = Path(model_dir)
        absent = missing_files(model_dir)
        if absent:
            raise FileNotFoundError(f"{model_dir} is not an Allosaurus model directory: missing {', '.join(absent)}")
        config = Namespace(model=model_dir.name, device_id=device_id(device), lang="ipa", approximate=False, prior=None)
        self.recognizer = Recognizer(read_pm(model_dir, config), read_am(model_dir, config),
                                     read_lm(model_dir, config), config)
        self.recognizer.am.eval()

    def phones(self, samples: np.ndarray, sample_rate: int) -> list[str]:
        """Recognized IPA phones, in order (through a temporary 16-bit WAV: Allosaurus reads files only)."""
        with tempfile.TemporaryDirectory(prefix="ztts1-allosaurus-") as tmp:
            path = Path(tmp) / "utterance.wav"
            sf.write(path, np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16")
            import torch

            # Allosaurus's per-utterance CMVN divides by a zero deviation on silence (its own
            # result then: no phones); keep numpy's warnings about that out of the log.
            with torch.no_grad(), np.errstate(divide="ignore", invalid="ignore"):
                lines = self.recognizer.recognize(str(path), timestamp=True).strip()
        return [line.split()[-1] for line in lines.split("\n")] if lines else []

    def rate(self, samples: np.ndarray, sample_rate: int) -> float:
        return len(self.phones(samples, sample_rate)) / (len(samples) / sample_rate)
