"""Finding model weights: a local path, the models directory, the Hugging Face cache, or a
download (unless offline).

The models directory (``$ZTTS1_MODELS_DIR``) holds pre-downloaded weights under the repository's
last name component: ``$ZTTS1_MODELS_DIR/Qwen3-ASR-1.7B-hf/``, ``.../MSR-UTMOS/model.ckpt``. With
it set, ``make eval SCORERS=paper`` needs no per-scorer overrides.

Every failure is a :class:`ScorerUnavailable` whose message names the repo, the revision and
the command that fetches it, so a run stops before synthesis with something the user can act on.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers.base import ScorerUnavailable


def offline() -> bool:
    return any(os.environ.get(var, "0") not in ("0", "", "false", "False") for var in ("HF_HUB_OFFLINE", "ZTTS1_OFFLINE"))


MODELS_DIR_ENV = "ZTTS1_MODELS_DIR"


def resolve_device(device: str) -> str:
    """``auto`` = the GPU when there is one, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def weight_checksums(directory: Path, extra_patterns: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of a snapshot's weight files (safetensors, else .bin) and any extra files."""
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    extra = [p for pattern in extra_patterns for p in sorted(directory.glob(pattern))]
    return {p.name: tree_sha256(p) for p in weights + extra}


def generation_config(source: Path) -> dict[str, Any] | None:
    """A snapshot's generation_config.json, which generate() applies (recorded in the scorer's
    identity, as it decides eos tokens and any sampling setting); None without one."""
    path = Path(source) / "generation_config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in sorted(config.items()) if k != "transformers_version"}


def models_dir() -> Path | None:
    value = os.environ.get(MODELS_DIR_ENV)
    return Path(value).expanduser() if value else None


def _download_hint(scorer: str, repo_id: str, revision: str | None, repo_type: str, filename: str | None,
                   option: str) -> str:
    kind = f" --repo-type {repo_type}" if repo_type != "model" else ""
    base = models_dir() or Path("/models")
    target = base / repo_id.split("/")[-1]
    where = (f"(it is then found in ${MODELS_DIR_ENV}={base})" if models_dir() else
             f"and set {MODELS_DIR_ENV}={base}")
    return (f"fetch it where you have network: `huggingface-cli download {repo_id}{f' {filename}' if filename else ''}"
            f"{kind}{f' --revision {revision}' if revision else ''} --local-dir {target}` {where}, "
            f"or set scorers.run.{option}={target}{f'/{filename}' if filename else ''}")


def is_pinned(revision: str | None, location: Path) -> bool:
    """True when ``revision`` is a full commit hash and ``location`` is that commit's hub snapshot
    (``.../snapshots/<commit>``): the code in it is exactly the code of that commit."""
    location = Path(location)
    return bool(revision and re.fullmatch(r"[0-9a-f]{40}", revision) and location.name == revision
                and location.parent.name == "snapshots")


def snapshot(scorer: str, model: str, revision: str | None, option: str, required: str = "config.json",
             repo_type: str = "model") -> Path:
    """A local directory holding ``required``, or the hub snapshot of ``model`` at ``revision``."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / required).is_file():
            raise ScorerUnavailable(f"{scorer}: {path} has no {required}; expected a save_pretrained directory")
        return path
    local = models_dir() / model.split("/")[-1] if models_dir() else None
    if local is not None and (local / required).is_file():
        return local
    from huggingface_hub import snapshot_download

    hint = _download_hint(scorer, model, revision, repo_type, None, option)
    try:
        return Path(snapshot_download(model, revision=revision, repo_type=repo_type, local_files_only=True))
    except Exception:
        if offline():
            raise ScorerUnavailable(f"{scorer}: {model} (revision {revision or 'unpinned'}) is not in the local "
                                    f"cache and HF_HUB_OFFLINE is set; {hint}") from None
    try:
        return Path(snapshot_download(model, revision=revision, repo_type=repo_type))
    except Exception as exc:
        raise ScorerUnavailable(f"{scorer}: cannot get {model} (revision {revision or 'unpinned'}): "
                                f"{type(exc).__name__}; {hint}") from exc


def file(scorer: str, source: str, repo_id: str, revision: str | None, option: str, repo_type: str = "model") -> Path:
    """``source`` as a local file, else the file of that name in ``repo_id`` (cache, then download)."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if path.is_absolute() or source.startswith("."):
        raise ScorerUnavailable(f"{scorer}: file {source} does not exist")
    local = models_dir() / repo_id.split("/")[-1] / source if models_dir() else None
    if local is not None and local.is_file():
        return local
    from huggingface_hub import hf_hub_download

    hint = _download_hint(scorer, repo_id, revision, repo_type, source, option)
    try:
        return Path(hf_hub_download(repo_id, source, revision=revision, repo_type=repo_type, local_files_only=True))
    except Exception:
        if offline():
            raise ScorerUnavailable(f"{scorer}: {source} of {repo_id} (revision {revision or 'unpinned'}) is not in "
                                    f"the local cache and HF_HUB_OFFLINE is set; {hint}") from None
    try:
        return Path(hf_hub_download(repo_id, source, revision=revision, repo_type=repo_type))
    except Exception as exc:
        raise ScorerUnavailable(f"{scorer}: cannot get {source} from {repo_id} (revision {revision or 'unpinned'}): "
                                f"{type(exc).__name__}; {hint}") from exc


def funasr_files(scorer: str, directory: Path, defaults: dict[str, str]) -> dict[str, Path]:
    """The files of a FunASR model directory (``init_param``, ``config``, ``token_list``,
    ``cmvn_file``: the keys of ``defaults``), named by its ``configuration.json``
    ``file_path_metas`` when present, as FunASR reads them; all must exist."""
    names = dict(defaults)
    meta_path = directory / "configuration.json"
    if meta_path.is_file():
        metas = json.loads(meta_path.read_text(encoding="utf-8")).get("file_path_metas", {})
        nested = {"token_list": metas.get("tokenizer_conf") or {}, "cmvn_file": metas.get("frontend_conf") or {}}
        for key in names:
            value = nested[key].get(key) if key in nested else metas.get(key)
            names[key] = value if isinstance(value, str) else names[key]
    files = {key: directory / name for key, name in names.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise ScorerUnavailable(f"{scorer}: {directory} lacks {', '.join(missing)}; expected a FunASR model "
                                f"directory ({', '.join(sorted(set(names.values()) | {'configuration.json'}))})")
    return files


def load_strict(scorer: str, path: Path, trust_pickle: bool, model: Any, config_path: Path) -> list[str]:
    """Load the torch state dict at ``path`` (FunASR's ``state_dict`` / ``model`` wrappers
    unwrapped, as its loader does) into ``model``: every parameter must be there with its shape
    (FunASR's loader skips mismatches silently; we refuse). Returns the checkpoint's keys the
    model does not use (modules the inference path does not run), sorted."""
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        raise ScorerUnavailable(f"{scorer}: {path} holds Python objects besides tensors; if you trust it, set "
                                "trust_pickle=true") from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or wrong:
        raise ScorerUnavailable(f"{scorer}: {path} does not match {config_path} (missing {missing[:4]}, "
                                f"wrong shape {wrong[:4]})")
    model.load_state_dict({k: state[k] for k in expected})
    return sorted(k for k in state if k not in expected)
