"""Benchmark manifests: one JSON object per line, one item per line, schema-versioned.

Audio paths in a manifest are relative to a data root (absolute paths are allowed only when
they still lie under the root, symbolic links resolved: a link inside the root that points out
of it is refused unless ``follow_symlinks``). Texts are limited (``max_text_chars``; blank text
is missing text) and so is a line (``MAX_LINE_BYTES``). Loading validates everything at once and
raises one :class:`ManifestError` that lists every problem, so a user fixes a broken manifest in
one pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ztts1_eval.core import atomic, languages
from ztts1_eval.core.errors import ConfigError

MANIFEST_SCHEMA_VERSION = 1
_AUDIO_FIELDS = ("prompt_wav", "gt_wav")
_REQUIRED = ("id", "subset", "language", "prompt_wav", "target_text")
_STRING_FIELDS = ("id", "subset", "language", "prompt_wav", "target_text", "prompt_text", "gt_wav", "speaker")
# Ids name files (wavs/<id>.wav), so they stay within a portable file-name alphabet.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_TEXT_FIELDS = ("target_text", "prompt_text")
# Generous for TTS (a long paragraph); a longer text is almost certainly a broken manifest.
DEFAULT_MAX_TEXT_CHARS = 2000
MAX_LINE_BYTES = 1 << 20  # one item per line: 1 MiB is far beyond any real item


class ManifestError(ConfigError):
    """A manifest that cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Item:
    id: str
    subset: str
    language: str
    prompt_wav: str
    target_text: str
    prompt_text: str | None = None
    gt_wav: str | None = None
    speaker: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    items: list[Item]
    data_root: Path
    schema_version: int = MANIFEST_SCHEMA_VERSION

    def resolve(self, relative: str) -> Path:
        return _join(self.data_root, relative)

    def by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}


def write(path: str | os.PathLike, items: Iterable[Item], build: dict[str, Any] | None = None) -> None:
    """Write the header line, then one item per line (atomically). ``build`` (optional) records
    how a data builder made the manifest: source, revision, seed, counts and the checksum of
    every audio file (``ztts1-eval data verify`` re-checks them)."""
    header: dict[str, Any] = {"schema_version": MANIFEST_SCHEMA_VERSION, "kind": "ztts1-eval-manifest"}
    if build is not None:
        header["build"] = build
    lines = [json.dumps(header, ensure_ascii=False, sort_keys=True)]
    lines += [json.dumps(item.to_json(), ensure_ascii=False, sort_keys=True) for item in items]
    atomic.write_text(path, "\n".join(lines) + "\n")


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header line of a manifest (with its ``build`` record, when a data builder wrote it)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    break
                if isinstance(obj, dict) and obj.get("kind") == "ztts1-eval-manifest":
                    return obj
                break
    raise ManifestError(f"{path}: the first line is not a ztts1-eval manifest header")


def _lines(fh) -> Iterable[tuple[int, str | None]]:
    """(line number, text), or (line number, None) for a line over ``MAX_LINE_BYTES``, which is
    skipped without ever being held in memory whole."""
    lineno = 0
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        lineno += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            while line and not line.endswith("\n"):
                line = fh.readline(MAX_LINE_BYTES)
            yield lineno, None
            continue
        yield lineno, line


def _parse_lines(path: Path) -> tuple[int, list[tuple[int, dict]], list[str]]:
    problems: list[str] = []
    records: list[tuple[int, dict]] = []
    version = None
    with open(path, encoding="utf-8") as fh:
        for lineno, line in _lines(fh):
            if line is None:
                problems.append(f"line {lineno}: longer than {MAX_LINE_BYTES} characters (one item per line)")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {lineno}: not JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {lineno}: expected a JSON object")
            elif obj.get("kind") == "ztts1-eval-manifest":
                version = obj.get("schema_version")
            else:
                records.append((lineno, obj))
    if version is None:
        problems.insert(0, "missing header line {\"kind\": \"ztts1-eval-manifest\", \"schema_version\": N}")
    elif version != MANIFEST_SCHEMA_VERSION:
        problems.insert(0, f"schema_version {version} is not supported (this code reads {MANIFEST_SCHEMA_VERSION})")
    return version, records, problems


def _join(root: Path, rel: str) -> Path:
    """Lexical join: ``..`` cannot climb out of the root."""
    return Path(os.path.normpath(root / rel))


def _check_audio_path(root: Path, rel: str, check_files: bool, follow_symlinks: bool = False) -> str | None:
    resolved = _join(root, rel)
    if not resolved.is_relative_to(root):
        return f"path escapes the data root {root}: {rel}"
    if check_files and not follow_symlinks and resolved.exists() and not resolved.resolve().is_relative_to(root):
        return (f"path leaves the data root {root} through a symbolic link: {rel} -> {resolved.resolve()} "
                f"(set benchmark.follow_symlinks=true for datasets linked into place)")
    if check_files:
        if not resolved.is_file():
            return f"missing file: {resolved}"
        if not os.access(resolved, os.R_OK):
            return f"unreadable file: {resolved}"
    return None


def load(path: str | os.PathLike, data_root: str | os.PathLike, check_files: bool = True,
         max_text_chars: int = DEFAULT_MAX_TEXT_CHARS, follow_symlinks: bool = False) -> Manifest:
    """Load and validate a manifest; raise :class:`ManifestError` listing every problem."""
    path = Path(path)
    root = Path(data_root).resolve()
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    if check_files and not root.is_dir():
        raise ManifestError(f"data root is not a directory: {root} (set data_root= or ZTTS1_DATA_ROOT)")
    _, records, problems = _parse_lines(path)
    items: list[Item] = []
    seen: dict[str, int] = {}
    known = set(Item.__dataclass_fields__)
    for lineno, obj in records:
        where = f"line {lineno} (id={obj.get('id')!r})"
        # blank text is missing text: it would only fail later, once per scorer
        missing = [k for k in _REQUIRED if not obj.get(k) or (isinstance(obj[k], str) and not obj[k].strip())]
        unknown = sorted(set(obj) - known)
        if missing:
            problems.append(f"{where}: missing required field(s) {missing}")
        if unknown:
            problems.append(f"{where}: unknown field(s) {unknown}")
        wrong_type = [k for k in _STRING_FIELDS if obj.get(k) is not None and not isinstance(obj[k], str)]
        if "meta" in obj and not isinstance(obj["meta"], dict):
            wrong_type.append("meta (must be an object)")
        if wrong_type:
            problems.append(f"{where}: field(s) of the wrong type (strings expected): {wrong_type}")
        if missing or unknown or wrong_type:
            continue
        item = Item(**obj)
        if item.id in seen:
            problems.append(f"{where}: duplicate id (first on line {seen[item.id]})")
        seen.setdefault(item.id, lineno)
        if not _ID_PATTERN.match(item.id):
            problems.append(f"{where}: id must match {_ID_PATTERN.pattern} (it names output files)")
        for name in _TEXT_FIELDS:
            text = getattr(item, name)
            if text and len(text) > max_text_chars:
                problems.append(f"{where}: {name} has {len(text)} characters, over max_text_chars={max_text_chars}")
        if not languages.is_known(item.language):
            problems.append(f"{where}: unknown language code {item.language!r} (known: {sorted(languages.LANGUAGES)})")
        for name in _AUDIO_FIELDS:
            rel = getattr(item, name)
            if rel:
                problem = _check_audio_path(root, rel, check_files, follow_symlinks)
                if problem:
                    problems.append(f"{where}: {name}: {problem}")
        items.append(item)
    if problems:
        raise ManifestError(f"{len(problems)} problem(s) in manifest {path}:\n  - " + "\n  - ".join(problems))
    return Manifest(items=items, data_root=root)


def shard_of(item_id: str, count: int) -> int:
    """The shard an item belongs to: a stable hash of its id alone, so shards never overlap and
    an item keeps its shard when other items are added to or removed from the manifest."""
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16], 16) % count


def select_shard(items: list[Item], index: int, count: int) -> list[Item]:
    """Items of shard ``index`` of ``count`` (see :func:`shard_of`), in id order."""
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"invalid shard: index {index} of count {count} (need 0 <= index < count)")
    return [item for item in sorted(items, key=lambda item: item.id) if shard_of(item.id, count) == index]
