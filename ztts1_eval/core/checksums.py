"""Content checksums of model files, so results name the exact weights they came from."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def _files(base: Path) -> list[Path]:
    return [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())


@lru_cache(maxsize=64)
def _tree_sha256(root: str, fingerprint: tuple) -> str:
    digest = hashlib.sha256()
    base = Path(root)
    for path in _files(base):
        digest.update(str(path.relative_to(base) if path != base else path.name).encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def tree_sha256(path: str | os.PathLike) -> str:
    """SHA-256 over a file, or over every file (names and bytes) under a directory. Hashed once
    per process while no file's size or modification time changes."""
    base = Path(path).resolve()
    fingerprint = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _files(base))
    return _tree_sha256(str(base), fingerprint)
