"""Every checksum the toolkit records: of files (audio, model weights, whole model folders) and
of JSON-able values (run ids, cache keys, scorer identities, config hashes)."""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any


def _update(digest: Any, path: Path) -> None:
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    _update(digest, Path(path))
    return digest.hexdigest()


def json_sha256(value: Any, ensure_ascii: bool = True) -> str:
    """SHA-256 of a value's canonical JSON (sorted keys; anything else by ``str``). The options
    are part of every stored id: changing them changes every run id and cache key."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=ensure_ascii, default=str).encode()).hexdigest()


def _files(base: Path) -> list[Path]:
    return [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())


@lru_cache(maxsize=64)
def _tree_sha256(root: str, fingerprint: tuple) -> str:
    digest = hashlib.sha256()
    base = Path(root)
    for path in _files(base):
        digest.update(str(path.relative_to(base) if path != base else path.name).encode())
        _update(digest, path)
    return digest.hexdigest()


def tree_sha256(path: str | os.PathLike) -> str:
    """SHA-256 over a file, or over every file (names and bytes) under a directory. Hashed once
    per process while no file's size or modification time changes."""
    base = Path(path).resolve()
    fingerprint = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _files(base))
    return _tree_sha256(str(base), fingerprint)
