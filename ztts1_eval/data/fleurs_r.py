"""ZTTS1 "Clean": FLEURS-R (``google/fleurs-r``, CC-BY-4.0) test utterances in nine languages,
plus the hard subsets built from CV3-Eval texts with FLEURS-R prompts.

The dataset repository has no loading script (``datasets`` mis-reads it), so the builder reads
the files itself, from the hub (``huggingface_hub``, pinned ``revision``) or from a local copy
with the same layout:

- ``data/<locale>/<split>.tsv``: no header, tab-separated: sentence id, file name, raw
  transcription, normalized transcription, spaced characters, sample count, gender. A sentence
  id repeats (several speakers read it), so rows are keyed on the file name;
- ``data/<locale>/audio/<split>.tar.gz``: the WAV files, matched on their base name.

Only the audio the manifest needs is extracted, to ``<data_root>/fleurs-r/<locale>/<split>/``,
each file atomically; a rerun extracts only what is still missing.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ztts1_eval.core import atomic
from ztts1_eval.data.common import Built, DataError, choose, read_lines, safe_id, where
from ztts1_eval.pipeline.manifest import Item

DATASET = "google/fleurs-r"
LICENSE = "CC-BY-4.0"
COLUMNS = ("sentence_id", "file_name", "raw_transcription", "transcription", "characters", "num_samples", "gender")
_WAV_NAME = re.compile(r"^[A-Za-z0-9._-]+\.wav$")


@dataclass(frozen=True)
class Row:
    sentence_id: str
    file_name: str
    raw_transcription: str
    gender: str
    line: int


def parse_tsv(path: Path) -> list[Row]:
    rows, seen = [], {}
    for lineno, line in read_lines(path, "FLEURS-R transcript table"):
        fields = line.split("\t")
        if len(fields) != len(COLUMNS):
            raise DataError(f"{where(path, lineno)}: expected {len(COLUMNS)} tab-separated columns "
                            f"({', '.join(COLUMNS)}), got {len(fields)}")
        sentence_id, file_name, raw = fields[0].strip(), fields[1].strip(), fields[2].strip()
        if not _WAV_NAME.match(file_name):
            raise DataError(f"{where(path, lineno)}: file name {file_name!r} is not a .wav file name")
        if not raw:
            raise DataError(f"{where(path, lineno)}: empty raw_transcription for {file_name}")
        if file_name in seen:
            raise DataError(f"{where(path, lineno)}: file {file_name} already listed on line {seen[file_name]}")
        seen[file_name] = lineno
        rows.append(Row(sentence_id, file_name, raw, fields[6].strip().upper(), lineno))
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows


class Source:
    """The dataset files, from a local copy or the hub (cached, resumable downloads)."""

    def __init__(self, source: str, revision: str | None):
        self.source, self.revision = source, revision
        self.local = Path(source).expanduser() if Path(source).expanduser().is_dir() else None
        self.commits: set[str] = set()

    def file(self, relative: str) -> Path:
        if self.local is not None:
            path = self.local / relative
            if not path.is_file():
                raise DataError(f"{path} not found: {self.local} does not have the {DATASET} layout "
                                f"(data/<locale>/<split>.tsv, data/<locale>/audio/<split>.tar.gz)")
            return path
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(self.source, relative, repo_type="dataset", revision=self.revision))
        except Exception as exc:  # noqa: BLE001 - network, auth, missing file: say which and how
            raise DataError(f"cannot get {relative} of dataset {self.source} (revision {self.revision or 'unpinned'}): "
                            f"{type(exc).__name__}: {exc}. Download it where you have network "
                            f"(`huggingface-cli download {self.source} --repo-type dataset --local-dir DIR`) "
                            f"and pass source=DIR") from exc
        if "snapshots" in path.parts:  # .../snapshots/<commit>/<relative>: the revision actually read
            self.commits.add(path.parts[path.parts.index("snapshots") + 1])
        return path

    def describe(self) -> dict[str, Any]:
        return {"dataset": DATASET, "license": LICENSE, "source": self.source,
                "revision": self.revision or ("local copy" if self.local else "unpinned"),
                "resolved_commits": sorted(self.commits)}


def extract(archive: Path, wanted: set[str], target: Path, progress: bool = True) -> None:
    """Extract the members whose base name is in ``wanted`` into ``target`` (skipping files
    already there); an error names what the archive lacks."""
    missing = {name for name in wanted if not (target / name).is_file()}
    if not missing:
        return
    try:
        with tarfile.open(archive, "r:gz") as tar, tqdm(total=len(missing), desc=f"extract {archive.name}",
                                                           unit="file", disable=not progress) as bar:
            for member in tar:
                name = os.path.basename(member.name)
                if not member.isfile() or name not in missing:
                    continue
                with tar.extractfile(member) as fh:
                    atomic.write_bytes(target / name, fh.read())
                missing.discard(name)
                bar.update(1)
                if not missing:
                    break
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{archive}: cannot read the audio archive ({type(exc).__name__}: {exc}); "
                        f"delete it to download again") from exc
    if missing:
        raise DataError(f"{archive} lacks {len(missing)} file(s) its table lists, e.g. {sorted(missing)[:3]}")


def select_rows(rows: list[Row], count: int, seed: int, unique_sentences: bool, what: str) -> list[Row]:
    """``count`` rows drawn with ``seed``; with ``unique_sentences`` at most one recording per
    sentence id (a seeded walk over a permutation of the rows)."""
    ordered = sorted(rows, key=lambda r: r.file_name)
    if not unique_sentences:
        return choose(ordered, count, seed, what)
    taken, chosen = set(), []
    for index in np.random.default_rng(seed).permutation(len(ordered)):
        row = ordered[index]
        if row.sentence_id not in taken:
            taken.add(row.sentence_id)
            chosen.append(row)
            if len(chosen) == count:
                return sorted(chosen, key=lambda r: r.file_name)
    raise DataError(f"{what}: asked for {count} utterances of distinct sentences but the source has {len(taken)}")


def pair_prompts(chosen: list[Row], rows: list[Row], rule: str, seed: int) -> dict[str, Row]:
    """Prompt of each chosen row. ``self``: the target clip itself (the Clean convention: FLEURS-R
    has no speaker ids). ``other_same_gender``: a seeded recording of the split with the same
    gender label and another sentence, for a prompt that differs from the target."""
    if rule == "self":
        return {row.file_name: row for row in chosen}
    if rule != "other_same_gender":
        raise DataError(f"unknown pairing rule {rule!r} (self, other_same_gender)")
    rng = np.random.default_rng(seed)
    prompts = {}
    ordered = sorted(rows, key=lambda r: r.file_name)
    for row in chosen:
        pool = [r for r in ordered if r.gender == row.gender and r.sentence_id != row.sentence_id]
        if not pool:
            raise DataError(f"pairing other_same_gender: no other {row.gender} clip for {row.file_name}")
        prompts[row.file_name] = pool[int(rng.integers(len(pool)))]
    return prompts


def _hard_texts(cv3_root: Path, leaf: str) -> list[tuple[str, str, Path, int]]:
    from ztts1_eval.data.importers import read_kaldi_table

    path = cv3_root / "data" / "zero_shot" / leaf / "text"
    return [(utt, text, path, lineno) for utt, (text, lineno) in read_kaldi_table(path, "CV3-Eval text").items()]


def build_clean(config: dict[str, Any], progress: bool = True) -> Built:
    root = Path(config["data_root"]).expanduser()
    source = Source(str(config["source"]), config.get("revision"))
    split, seed, per_language = config["split"], int(config["seed"]), int(config["per_language"])
    locales: dict[str, str] = dict(config["locales"])
    hard = config.get("hard") or {}
    cv3_root = Path(hard["cv3_root"]).expanduser() if hard.get("cv3_root") else None
    if cv3_root is not None and not cv3_root.is_dir():
        raise DataError(f"hard.cv3_root {cv3_root} is not a directory (a CV3-Eval checkout)")
    unknown_hard = {loc for loc in (hard.get("leaves") or {}).values() if loc not in locales}
    if cv3_root is not None and unknown_hard:
        raise DataError(f"hard.leaves use locales {sorted(unknown_hard)} that are not in locales")
    items, notes = [], []
    for locale, language in sorted(locales.items()):
        rows = parse_tsv(source.file(f"data/{locale}/{split}.tsv"))
        chosen = select_rows(rows, per_language, seed, bool(config.get("unique_sentences", True)),
                             f"FLEURS-R {locale} {split}")
        prompts = pair_prompts(chosen, rows, config.get("pairing", "self"), seed)
        hard_items: list[tuple[str, str, str, Row]] = []
        for leaf, leaf_locale in sorted((hard.get("leaves") or {}).items()):
            if leaf_locale != locale or cv3_root is None:
                continue
            texts = _hard_texts(cv3_root, leaf)
            by_name = sorted(rows, key=lambda r: r.file_name)
            # Seeded prompt per hard text, drawn from every recording of the split (not only
            # the chosen ones), with replacement only when there are more texts than clips.
            rng = np.random.default_rng([seed, zlib.crc32(leaf.encode())])
            picks = (rng.choice(len(by_name), len(texts), replace=len(texts) > len(by_name)))
            hard_items += [(leaf, utt, text, by_name[int(i)]) for (utt, text, _, _), i in zip(texts, picks)]
        wanted = {r.file_name for r in chosen} | {p.file_name for p in prompts.values()} | {h[3].file_name for h in hard_items}
        folder = root / "fleurs-r" / locale / split
        extract(source.file(f"data/{locale}/audio/{split}.tar.gz"), wanted, folder, progress)
        rel = f"fleurs-r/{locale}/{split}"
        for row in chosen:
            prompt = prompts[row.file_name]
            items.append(Item(
                id=safe_id("clean", language, Path(row.file_name).stem), subset="clean", language=language,
                prompt_wav=f"{rel}/{prompt.file_name}", prompt_text=prompt.raw_transcription,
                target_text=row.raw_transcription, gt_wav=f"{rel}/{row.file_name}", speaker=None,
                meta={"locale": locale, "sentence_id": row.sentence_id, "gender": row.gender,
                      "prompt_file": prompt.file_name}))
        for leaf, utt, text, prompt in hard_items:
            items.append(Item(
                id=safe_id(leaf, utt), subset=leaf, language=language, prompt_wav=f"{rel}/{prompt.file_name}",
                prompt_text=prompt.raw_transcription, target_text=text, gt_wav=None, speaker=None,
                meta={"locale": locale, "cv3_leaf": leaf, "cv3_utt": utt, "prompt_file": prompt.file_name}))
    if cv3_root is None and hard.get("leaves"):
        notes.append("hard subsets not built: set hard.cv3_root to a CV3-Eval checkout")
    protocol = {"split": split, "seed": seed, "per_language": per_language, "locales": locales,
                "unique_sentences": bool(config.get("unique_sentences", True)),
                "pairing": config.get("pairing", "self"), "text": "raw_transcription",
                "hard": {"leaves": dict(hard.get("leaves") or {}), "cv3_root": str(cv3_root) if cv3_root else None,
                         "prompts": "seeded FLEURS-R recordings of the leaf's locale and split; no ground truth"}}
    return Built(items=items, data_root=root, source=source.describe(), protocol=protocol, notes=notes)
