"""What every data builder shares: precise input errors, seeded selection, and writing a
manifest whose header records the source, protocol and the checksum of every audio file."""

from __future__ import annotations

import os
import platform
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from tqdm import tqdm

from ztts1_eval import __version__
from ztts1_eval.pipeline import manifest as manifest_mod
from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.pipeline.manifest import Item

BUILD_FORMAT_VERSION = 1


class DataError(ConfigError):
    """Source data that cannot be turned into a manifest; says which file and line, and what."""


@dataclass
class Built:
    items: list[Item]
    data_root: Path  # manifest audio paths are relative to it
    source: dict[str, Any]  # what was read: dataset id or path, revision, licence
    protocol: dict[str, Any]  # the parameters that chose and paired the items
    notes: list[str] = field(default_factory=list)


def where(path: Path, lineno: int | None = None) -> str:
    return f"{path}:{lineno}" if lineno is not None else str(path)


def read_lines(path: Path, what: str) -> list[tuple[int, str]]:
    """Non-empty lines with their 1-based numbers (UTF-8, BOM tolerated)."""
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from exc
    return [(n, line.rstrip("\r\n")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]


def relative_to_root(path: Path, root: Path, what: str) -> str:
    """``path`` as a manifest path under ``root``; an error when it lies outside."""
    resolved = Path(os.path.normpath(path.absolute()))
    root = Path(os.path.normpath(root.absolute()))
    if not resolved.is_relative_to(root):
        raise DataError(f"{what} {path} is outside the data root {root}; put the source under the data root "
                        f"(or pass data_root=<a directory above both>)")
    return resolved.relative_to(root).as_posix()


def choose(candidates: Sequence[Any], count: int, seed: int, what: str) -> list[Any]:
    """``count`` of ``candidates`` (taken in the caller's stable order), drawn without replacement
    with ``default_rng(seed)``, returned in that order. Fewer candidates than asked is an error."""
    if count > len(candidates):
        raise DataError(f"{what}: asked for {count} items but the source has only {len(candidates)}")
    picked = np.random.default_rng(seed).choice(len(candidates), count, replace=False)
    return [candidates[i] for i in sorted(picked)]


def safe_id(*parts: str) -> str:
    """An item id from source names, kept within the manifest's id alphabet."""
    text = "-".join(parts)
    return "".join(ch if ch.isalnum() and ch.isascii() or ch in "._-" else "_" for ch in text)[:200]


def audio_checksums(items: Iterable[Item], root: Path, progress: bool = True) -> dict[str, str]:
    paths = sorted({p for item in items for p in (item.prompt_wav, item.gt_wav) if p})
    checksums = {}
    for rel in tqdm(paths, desc="checksum audio", unit="file", disable=not progress):
        full = root / rel
        if not full.is_file():
            raise DataError(f"audio file missing: {full}")
        checksums[rel] = file_sha256(full)
    return checksums


def write(built: Built, out: Path, name: str, progress: bool = True) -> dict[str, Any]:
    """Validate ``built`` as a manifest and write it atomically with its build header."""
    if not built.items:
        raise DataError(f"{name}: the source gave no items")
    ids = Counter(item.id for item in built.items)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise DataError(f"{name}: duplicate item ids {duplicated[:5]}")
    items = sorted(built.items, key=lambda item: item.id)
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        counts.setdefault(item.subset, {}).setdefault(item.language, 0)
        counts[item.subset][item.language] += 1
    header = {
        "format": BUILD_FORMAT_VERSION, "name": name, "source": built.source, "protocol": built.protocol,
        "counts": counts, "n_items": len(items), "notes": built.notes,
        "tool": {"ztts1_eval": __version__, "python": platform.python_version()},
        "audio_sha256": audio_checksums(items, built.data_root, progress),
    }
    # Write to a temporary name first, validate it (paths, ids, languages), then publish.
    tmp = out.with_name(f".{out.name}.building")
    manifest_mod.write(tmp, items, build=header)
    try:
        manifest_mod.load(tmp, built.data_root)
    except manifest_mod.ManifestError as exc:
        tmp.unlink()
        raise DataError(f"{name}: the built manifest is invalid: {exc}") from exc
    os.replace(tmp, out)
    return header
