"""The ``demo`` benchmark: the real clips in ``shared/samples`` (see its samples.tsv).

Pairing rules (written down because they change SIM numbers):
- A speaker with two or more clips (LJ Speech, LibriSpeech 2412) is cloned from one of its
  *other* clips: the in-the-wild convention, so the ground-truth SIM is sim(prompt, gt).
- Any other clip is its own prompt: the Clean convention (FLEURS has no speaker ids, so
  clips whose speaker label contains "unknown" are never paired with each other).
- A clip without a transcript is never an item; it can still serve as another item's prompt.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from ztts1_eval.pipeline.manifest import Item

SUBSET = "demo"


def _read_rows(data_root: Path) -> list[dict[str, str]]:
    tsv = data_root / "samples.tsv"
    if not tsv.is_file():
        raise FileNotFoundError(
            f"demo benchmark: {tsv} not found. Point data_root (or ZTTS1_DATA_ROOT) at the "
            "shared samples folder that holds samples.tsv."
        )
    with open(tsv, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _known_speaker(label: str) -> bool:
    return bool(label) and "unknown" not in label


def build(data_root: Path, config: Any = None) -> list[Item]:
    rows = _read_rows(Path(data_root))
    clips_by_speaker: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if _known_speaker(row["speaker"]):
            clips_by_speaker[row["speaker"]].append(row["file"])
    text_by_file = {row["file"]: row["transcript"].strip() for row in rows}

    items = []
    for row in rows:
        text = row["transcript"].strip()
        if not text:
            continue  # prompt-only clip
        others = [f for f in clips_by_speaker.get(row["speaker"], []) if f != row["file"]]
        prompt = sorted(others)[0] if others else row["file"]
        stem = Path(row["file"]).stem
        items.append(
            Item(
                id=f"{row['language']}-{stem}",
                subset=SUBSET,
                language=row["language"],
                prompt_wav=prompt,
                prompt_text=text_by_file.get(prompt) or None,
                target_text=text,
                gt_wav=row["file"],
                speaker=row["speaker"],
                meta={
                    "pairing": "other_clip_same_speaker" if others else "self_prompt",
                    "transcript_kind": row["transcript_kind"],
                    "license": row["license"],
                    "source": f"{row['source_repo']}@{row['source_commit']}:{row['source_path']}",
                },
            )
        )
    return sorted(items, key=lambda item: item.id)
