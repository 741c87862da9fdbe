"""Content-addressed store of numeric arrays that are too large for a JSON score record.

A scorer may return a numpy array as a value (e.g. the pooled frame statistics of the MPM
prosody benchmark, ~130 kB per utterance); the pipeline stores it here and keeps only its
reference, ``"blob:<sha256 of the .npy bytes>"``, in the score record, the score cache and
``items.parquet``. Each run directory holds its own copy of the blobs it refers to, so a run
stays a self-contained function of its files; the score cache holds one copy for all runs.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ztts1_eval.core import atomic

PREFIX = "blob:"
DIR = "_blobs"


class BlobMissing(FileNotFoundError):
    """A referenced array is not in the store (or its bytes no longer match its name)."""


def is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _path(root: Path, digest: str) -> Path:
    return Path(root) / DIR / digest[:2] / f"{digest}.npy"


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def put(root: Path, array: np.ndarray) -> str:
    """Store ``array`` under ``root`` (idempotent) and return its reference."""
    data = _npy_bytes(np.asarray(array))
    digest = hashlib.sha256(data).hexdigest()
    path = _path(root, digest)
    if not path.is_file():
        atomic.write_bytes(path, data)
    return PREFIX + digest


def get(root: Path, ref: str) -> np.ndarray:
    """The array behind ``ref``; its bytes are checked against the name."""
    digest = ref[len(PREFIX):]
    path = _path(root, digest)
    if not path.is_file():
        raise BlobMissing(f"array {ref} is not in {Path(root) / DIR}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise BlobMissing(f"array file {path} is corrupt (checksum differs from its name)")
    return np.load(io.BytesIO(data), allow_pickle=False)


def has(root: Path, ref: str) -> bool:
    return _path(root, ref[len(PREFIX):]).is_file()


def copy(src_root: Path, dst_root: Path, ref: str) -> None:
    """Make ``ref`` available under ``dst_root`` (atomic; a no-op when it is already there)."""
    target = _path(dst_root, ref[len(PREFIX):])
    if target.is_file():
        return
    source = _path(src_root, ref[len(PREFIX):])
    if not source.is_file():
        raise BlobMissing(f"array {ref} is not in {Path(src_root) / DIR}")
    with atomic.atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def store_arrays(values: Any, roots: list[Path]) -> Any:
    """``values`` with every numpy array (at any depth of dicts/lists) replaced by its
    reference, stored under each of ``roots``."""
    if isinstance(values, np.ndarray):
        ref = None
        for root in roots:
            ref = put(root, values)
        return ref
    if isinstance(values, dict):
        return {k: store_arrays(v, roots) for k, v in values.items()}
    if isinstance(values, list):
        return [store_arrays(v, roots) for v in values]
    return values


def refs_in(values: Any) -> list[str]:
    """Every blob reference in ``values`` (dicts/lists at any depth)."""
    if is_ref(values):
        return [values]
    if isinstance(values, dict):
        return [ref for v in values.values() for ref in refs_in(v)]
    if isinstance(values, list):
        return [ref for v in values for ref in refs_in(v)]
    return []
