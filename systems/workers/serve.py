"""The worker side of the JSON-lines protocol spoken with :class:`systems.worker_system.WorkerSystem`.

1. The parent writes one line of settings (JSON) to stdin.
2. The worker loads its model and answers ``{"event": "ready", "info": {...}}`` (everything that
   decides the output: package versions, resolved model path and commit, device, dtype,
   generation settings, supported languages) or ``{"event": "error", "error": "..."}`` and exits.
3. Then, per request line ``{"item_id", "text", "language", "prompt_wav", "prompt_text", "seed",
   "out"}``, it writes a float32 WAV to ``out`` and answers ``{"item_id", "status": "ok",
   "sample_rate", "meta"}`` or ``{"item_id", "status": "failed", "error"}``.

Libraries print to stdout (progress bars, warnings), so the protocol gets a private copy of the
original stdout and everything else written to fd 1 goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, Callable, Protocol

import numpy as np
import soundfile as sf


COMMON_SETTINGS = {"model", "revision", "device", "dtype", "generation", "threads", "checksums"}


class Engine(Protocol):
    info: dict[str, Any]
    settings: set[str]  # the settings it reads besides COMMON_SETTINGS

    def synthesize(self, request: dict[str, Any]) -> tuple[np.ndarray, int, dict[str, Any]]:
        """Samples (mono float), sample rate, per-item metadata."""


def _protocol_stream():
    stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # stray prints from libraries now land on stderr
    sys.stdout = sys.stderr
    return stream


def _say(stream, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message, default=str) + "\n")
    stream.flush()


def serve(load: Callable[[dict[str, Any]], Engine]) -> int:
    """Run the protocol around ``load(settings) -> Engine`` until stdin closes."""
    out = _protocol_stream()
    try:
        settings = json.loads(sys.stdin.readline() or "{}")
        unknown = set(settings) - COMMON_SETTINGS - set(getattr(load, "settings", ()))
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)} for this worker")
        engine = load(settings)
    except BaseException as exc:  # noqa: BLE001 - the parent turns this into a clear message
        traceback.print_exc(file=sys.stderr)
        _say(out, {"event": "error", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    _say(out, {"event": "ready", "info": engine.info})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if hasattr(engine, "answer"):  # a non-synthesis worker (the qwen-asr transcriber)
                _say(out, {"item_id": request.get("item_id"), "status": "ok", **engine.answer(request)})
                continue
            samples, rate, meta = engine.synthesize(request)
            samples = np.asarray(samples, dtype=np.float32).reshape(-1)
            if samples.size == 0:
                raise ValueError("the model returned no samples")
            sf.write(request["out"], samples, int(rate), subtype="FLOAT")
            _say(out, {"item_id": request["item_id"], "status": "ok", "sample_rate": int(rate), "meta": meta})
        except Exception as exc:  # noqa: BLE001 - one item's failure is recorded, the worker goes on
            traceback.print_exc(file=sys.stderr)
            _say(out, {"item_id": request.get("item_id"), "status": "failed", "error": f"{type(exc).__name__}: {exc}"})
            if is_fatal(exc):
                return 3  # the device is unusable now; the parent starts a fresh worker for the next item
    return 0


def is_fatal(exc: BaseException) -> bool:
    """A CUDA error other than out-of-memory poisons the context: every later call would fail."""
    text = f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower():
        return False
    return type(exc).__name__ == "AcceleratorError" or "CUDA error" in text or "device-side assert" in text


def pick_device(requested: str | None) -> str:
    """``auto``: the GPU when there is one, else the CPU."""
    import torch

    if requested in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(requested)


def pick_dtype(requested: str | None, device: str):
    """``auto``: bfloat16 on a GPU (as the model cards run them), float32 on the CPU."""
    import torch

    if requested in (None, "", "auto"):
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, str(requested))


def set_threads(threads: int | None) -> int:
    """Pin torch's CPU threads (``threads`` setting); returns the count in use."""
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".ckpt", ".onnx")


def weight_checksums(directory: str) -> dict[str, str]:
    """SHA-256 of every weight file under ``directory`` (relative path -> digest): the record
    of exactly which weights ran, whatever the hub revision was called."""
    import hashlib

    sums = {}
    for root, _, files in os.walk(directory, followlinks=True):
        for name in sorted(files):
            if name.endswith(WEIGHT_SUFFIXES):
                path = os.path.join(root, name)
                digest = hashlib.sha256()
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 22), b""):
                        digest.update(block)
                sums[os.path.relpath(path, directory)] = digest.hexdigest()
    return dict(sorted(sums.items()))


def seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def versions(*packages: str) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def resolve_model(source: str, revision: str | None) -> tuple[str, str | None]:
    """A local directory as is, or a hub snapshot at ``revision``; returns (path, commit)."""
    if os.path.isdir(source):
        return source, None
    if os.path.isabs(source) or source.startswith(".") or source.count("/") != 1:
        raise FileNotFoundError(f"model directory {source!r} does not exist (and it is not a hub id)")
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(source, revision=revision)
    except Exception as exc:  # noqa: BLE001 - offline, gated, unknown revision: all need the same advice
        raise RuntimeError(
            f"could not get {source}@{revision or 'main'} from the Hugging Face hub ({type(exc).__name__}: {exc}); "
            f"where there is network run `huggingface-cli download {source}"
            f"{' --revision ' + revision if revision else ''} --local-dir <dir>` and set system.options.model=<dir>"
        ) from None
    return path, os.path.basename(os.path.normpath(path))  # snapshots/<commit>


def require(package: str, minimum: str) -> str:
    """The installed version of ``package``, or an ImportError naming the minimum."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version(package)
    except PackageNotFoundError:
        raise ImportError(f"{package}>={minimum} is not installed in {sys.executable}") from None
    if tuple(int(p) for p in installed.split(".")[:3] if p.isdigit()) < tuple(int(p) for p in minimum.split(".")):
        raise ImportError(f"{package}>={minimum} needed, found {installed} in {sys.executable}")
    return installed


def placeholder_modules(names: list[str]) -> list[str]:
    """Register importable stand-ins for modules that cannot be imported here, so a package
    that imports them at top level for code paths we never call still imports. Any use of a
    stand-in raises ImportError naming it: nothing is silently emulated. Returns the names
    that needed one.

    Why: PyPI's torchaudio wheels are CUDA builds that fail on a CPU-only torch, and both
    ``qwen_tts`` (its 25 Hz tokenizer) and ``voxcpm`` (its VoxCPM1 model) import torchaudio at
    import time although the 12 Hz Qwen3-TTS and VoxCPM2 paths do not use it."""
    import importlib
    import importlib.machinery
    import types

    class Unavailable(types.ModuleType):
        def __getattr__(self, attr: str):
            if attr.startswith("__"):
                raise AttributeError(attr)
            raise ImportError(f"{self.__name__} is not importable in this environment (needed for .{attr})")

    placed = []
    for name in names:
        root = name.split(".")[0]
        if root not in placed:
            try:
                importlib.import_module(root)
                continue
            except Exception:  # noqa: BLE001 - e.g. OSError from a CUDA-only build
                for key in [k for k in sys.modules if k == root or k.startswith(root + ".")]:
                    del sys.modules[key]
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            partial = ".".join(parts[:depth])
            if partial not in sys.modules:
                module = Unavailable(partial)
                module.__spec__ = importlib.machinery.ModuleSpec(partial, None)
                sys.modules[partial] = module
                if depth > 1:
                    sys.modules[".".join(parts[:depth - 1])].__dict__[parts[depth - 1]] = module
        if root not in placed:
            placed.append(root)
    return placed
