"""Find, read and transform the official ZONOS2 checkpoint (shared/docs/zonos2-reference.md §1).

Sources: a local directory (``params.json`` + ``model.pth`` | ``model.pt`` |
``consolidated/consolidated.pth`` | ``model.safetensors``), a direct weights file, or the hub id
``Zyphra/ZONOS2`` at a pinned revision. Tensors are memory-mapped and kept in their stored
dtype until cast once to the serving dtype, so the 8B model never passes through fp32."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from zonos2.config import RELEASE_PARAMS, Zonos2Config
from zonos2.model import Zonos2Model, rope_tables

log = logging.getLogger(__name__)

HUB_ID = "Zyphra/ZONOS2"
WEIGHT_NAMES = ("model.pth", "model.pt", "consolidated/consolidated.pth", "model.safetensors")
HUB_PATTERNS = ["*.json", "*.pth", "*.pt", "*.yaml", "*.safetensors"]
_DROPPED_SUFFIXES = (".router.ent_denom", ".router.normalized_entropy")


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or of the wrong shape; the message says which."""


def resolve_checkpoint(source: str | os.PathLike, revision: str | None = None) -> tuple[Path, Path]:
    """Return (params.json, weights file) for a local directory, a weights file or a hub id."""
    path = Path(source).expanduser()
    if path.is_file():
        params = path.parent / "params.json"
        if not params.is_file():
            raise CheckpointError(f"{path}: params.json not found beside the weights file")
        return params, path
    if path.is_dir():
        directory = path
    elif str(source).count("/") == 1 and not str(source).startswith((".", "/")):
        directory = _download(str(source), revision)
    else:
        raise CheckpointError(f"ZONOS2 checkpoint not found: {source} (neither a directory, a file nor a hub id)")
    params = directory / "params.json"
    weights = next((directory / name for name in WEIGHT_NAMES if (directory / name).is_file()), None)
    if not params.is_file() or weights is None:
        raise CheckpointError(f"{directory}: expected params.json and one of {list(WEIGHT_NAMES)}")
    return params, weights


def _download(repo_id: str, revision: str | None) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise CheckpointError("loading from the hub needs huggingface_hub: pip install -e '.[zonos2]'") from exc
    # The local cache first; the network only when HF_HUB_OFFLINE is unset (read at call time,
    # so an offline machine fails at once instead of retrying for about 20 s).
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_PATTERNS,
                                      local_files_only=offline))
    except Exception as exc:  # offline, unknown revision, auth, network
        raise CheckpointError(
            f"could not get {repo_id} at revision {revision or 'main (unpinned!)'} from the hub "
            f"({type(exc).__name__}: {exc}). Download it where you have network "
            f"(huggingface-cli download {repo_id} --revision <commit> --include 'params.json' 'model.pth') "
            "and pass the local directory as the checkpoint."
        ) from exc


def read_state_dict(weights: Path, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    if weights.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(weights), device="cpu")
    try:
        try:
            obj = torch.load(weights, map_location="cpu", weights_only=not trust_pickle, mmap=True)
        except RuntimeError as exc:  # legacy (non-zip) pickles cannot be memory-mapped
            if "mmap" not in str(exc):
                raise
            log.warning("%s cannot be memory-mapped (legacy format); reading it into memory", weights)
            obj = torch.load(weights, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{weights} holds Python objects besides tensors, so torch refuses to load it with "
            "weights_only=True (which cannot run code). Load it with trust_pickle=True only if you "
            f"trust where the file came from. torch said: {exc}"
        ) from exc
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{weights}: expected a state dict, got {type(obj).__name__}")
    return obj


def to_runner_layout(state: dict[str, torch.Tensor], config: Zonos2Config) -> dict[str, torch.Tensor]:
    """Official key layout -> this runner's parameters (the official loader's transforms).
    Consumes ``state`` as it goes, so an in-memory 15 GB checkpoint is never held twice."""
    out: dict[str, torch.Tensor] = {}
    experts_w1: dict[str, torch.Tensor] = {}
    experts_w3: dict[str, torch.Tensor] = {}
    for key in list(state):
        tensor = state.pop(key)
        if key.endswith(_DROPPED_SUFFIXES):
            continue
        if ".parametrizations." in key and key.endswith(".original"):
            head, _, rest = key.partition(".parametrizations.")
            key = f"{head}.{rest[: -len('.original')]}"
        if key.endswith("attention.wkv.weight") or key.endswith("feed_forward.w_in.weight"):
            if tensor.dim() == 3:  # [2, out, in]: K|V or up|gate
                tensor = tensor.reshape(-1, tensor.shape[-1])
        elif key.endswith("experts.w13"):
            # Interleaved rows: even = gate, odd = up  ->  [gate ; up]
            tensor = torch.cat((tensor[:, 0::2], tensor[:, 1::2]), dim=1)
            key = key[: -len("w13")] + "gate_up_proj"
        elif key.endswith("experts.w2"):
            key = key[: -len("w2")] + "down_proj"
        elif key.endswith("experts.w1"):
            experts_w1[key[: -len("w1")]] = tensor
            continue
        elif key.endswith("experts.w3"):
            experts_w3[key[: -len("w3")]] = tensor
            continue
        out[key] = tensor
    for prefix, gate in experts_w1.items():
        if prefix not in experts_w3:
            raise CheckpointError(f"{prefix}w1 present without {prefix}w3")
        out[prefix + "gate_up_proj"] = torch.cat((gate, experts_w3[prefix]), dim=1)
    return out


def check_shapes(model: Zonos2Model, state: dict[str, torch.Tensor]) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        problems.append(f"missing keys ({len(missing)}): {missing[:8]}{' ...' if len(missing) > 8 else ''}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
    for key in sorted(set(expected) & set(state)):
        if tuple(state[key].shape) != expected[key]:
            problems.append(f"{key}: shape {tuple(state[key].shape)}, params.json implies {expected[key]}")
    if problems:
        raise CheckpointError("checkpoint does not match params.json:\n  - " + "\n  - ".join(problems))


def build_model(config: Zonos2Config, state: dict[str, torch.Tensor] | None, dtype: torch.dtype,
                device: torch.device | str) -> Zonos2Model:
    """Create the model without allocating random weights, then assign the checkpoint tensors
    (each cast once to ``dtype`` on ``device``)."""
    with torch.device("meta"):
        model = Zonos2Model(config)
    if state is None:
        raise CheckpointError("no weights given")
    check_shapes(model, state)
    converted = {k: v.to(device=device, dtype=dtype) for k, v in state.items()}
    model.load_state_dict(converted, strict=True, assign=True)
    cos, sin = rope_tables(config, device=torch.device(device))
    model.rope_cos, model.rope_sin = cos, sin
    return model.eval()


def load(source: str | os.PathLike = HUB_ID, revision: str | None = None, dtype: torch.dtype | None = None,
         device: torch.device | str = "cpu", trust_pickle: bool = False) -> tuple[Zonos2Model, dict[str, Any]]:
    """Load a checkpoint; return the model and provenance (paths, revision, checksums)."""
    params, weights = resolve_checkpoint(source, revision)
    config = Zonos2Config.from_file(params)
    serving = dtype or getattr(torch, config.dtype)
    state = to_runner_layout(read_state_dict(weights, trust_pickle), config)
    model = build_model(config, state, serving, device)
    del state
    info = {
        "source": str(source), "revision": revision, "params": str(params), "weights": str(weights),
        "params_sha256": hashlib.sha256(params.read_bytes()).hexdigest(),
        "weights_size": weights.stat().st_size, "dtype": str(serving).replace("torch.", ""), "device": str(device),
    }
    return model, info


def dummy(source: str | os.PathLike = HUB_ID, dtype: torch.dtype | None = None,
          device: torch.device | str = "cpu") -> tuple[Zonos2Model, dict[str, Any]]:
    """Random weights of a checkpoint's config, built in place: only params.json is read (the hub
    id means the released config shipped here). For speed runs without the weights, as vLLM's
    and SGLang's ``--load-format dummy``; the decode cost does not depend on the weights' values."""
    from zonos2.random_checkpoint import random_model

    path = Path(source).expanduser()
    if path.is_dir() or path.is_file():
        params = (path if path.is_dir() else path.parent) / "params.json"
    elif str(source) == HUB_ID:
        params = RELEASE_PARAMS
    else:
        raise CheckpointError(f"load_format=dummy needs a directory with params.json or {HUB_ID}, got {source}")
    if not params.is_file():
        raise CheckpointError(f"{params} not found: load_format=dummy still reads the config")
    config = Zonos2Config.from_file(params)
    serving = dtype or getattr(torch, config.dtype)
    model = random_model(config, serving, str(device))
    info = {"source": str(source), "load_format": "dummy", "params": str(params),
            "params_sha256": hashlib.sha256(params.read_bytes()).hexdigest(),
            "weights": "random (zonos2.random_checkpoint.random_model, seed 0)",
            "dtype": str(serving).replace("torch.", ""), "device": str(device)}
    return model, info
