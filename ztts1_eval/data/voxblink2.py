"""ZTTS1 "In-the-wild": VoxBlink2 (CC BY-NC-SA 4.0) pairs of one speaker's clips from two videos.

VoxBlink2 publishes annotations only; the audio is fetched from YouTube by its own scripts
(``VoxBlink2/ScriptsForVoxBlink2``: ``downloader.py`` then ``cropper_audio.py``), which leave
``<audio>/<speaker>/<video>/<utt>.wav``. We never bundle or download audio. Inputs:

- ``annotations``: the release tree; ``meta/<speaker>/<video>/<utt>.txt`` gives each clip's
  25 fps frame rows after a 7-line header (the rows ``cropper_audio.py`` reads), hence its span;
- ``audio``: the cut clips, under the data root (a clip listed without audio is counted in the
  header's notes, not silently dropped);
- ``transcripts``: TSV ``<speaker>/<video>/<utt> <TAB> language <TAB> text`` (Whisper's
  transcripts and language from the release's ``asr_res``, whose file format we have not seen
  published, so the builder takes this plain table);
- ``utmos``: TSV ``<speaker>/<video>/<utt> <TAB> score`` (MOS from the paper stack's quality
  scorer; precomputed so the builder runs without model weights).

Protocol (report §V / App. B): per language a fixed count (``counts``) of target clips B, drawn
with ``seed`` evenly across ``bins`` uniform UTMOS bins over ``utmos_range`` (a short bin's
shortfall goes to the others, stated in the header), at most ``max_per_speaker`` per speaker;
each B is paired with a clone clip A of the same speaker from another video (seeded). Target
text = B's transcript; ground truth = B, so the GT SIM row is sim(A, B).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ztts1_eval.core import languages
from ztts1_eval.data.common import Built, DataError, read_lines, relative_to_root, safe_id, where
from ztts1_eval.pipeline.manifest import Item

LICENSE = "CC BY-NC-SA 4.0"
FPS = 25
META_HEADER_LINES = 7


@dataclass(frozen=True)
class Clip:
    key: str  # speaker/video/utt
    speaker: str
    video: str
    utt: str
    seconds: float
    audio: Path
    language: str | None = None
    text: str | None = None
    utmos: float | None = None


def clip_span(path: Path) -> float:
    """Seconds between the first and last frame row of a VoxBlink2 timestamp file."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    frames = []
    for lineno, line in enumerate(lines[META_HEADER_LINES:], META_HEADER_LINES + 1):
        if not line.strip():
            continue
        first = line.split("\t")[0].strip()
        if not first.lstrip("-").isdigit():
            raise DataError(f"{where(path, lineno)}: expected a frame row 'frame<TAB>x<TAB>y<TAB>w<TAB>h', got {line!r}")
        frames.append(int(first))
    if len(frames) < 2:
        raise DataError(f"{path}: fewer than two frame rows after the {META_HEADER_LINES}-line header")
    return (frames[-1] - frames[0]) / FPS


def read_table(path: Path, columns: tuple[str, ...], what: str) -> dict[str, tuple[list[str], int]]:
    table: dict[str, tuple[list[str], int]] = {}
    for lineno, line in read_lines(path, what):
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise DataError(f"{where(path, lineno)}: expected {len(columns)} tab-separated columns "
                            f"({', '.join(columns)}), got {len(fields)}")
        key = fields[0].strip()
        if key.count("/") != 2:
            raise DataError(f"{where(path, lineno)}: clip key {key!r} is not <speaker>/<video>/<utt>")
        if key in table:
            raise DataError(f"{where(path, lineno)}: clip {key} already on line {table[key][1]}")
        table[key] = ([f.strip() for f in fields[1:]], lineno)
    return table


def scan(config: dict[str, Any]) -> tuple[list[Clip], list[str]]:
    annotations = Path(config["annotations"]).expanduser()
    audio_dir = Path(config["audio"]).expanduser()
    meta_dir = annotations / "meta"
    if not meta_dir.is_dir():
        raise DataError(f"{annotations} has no meta/ directory (the VoxBlink2 annotation release)")
    transcripts_path, utmos_path = Path(config["transcripts"]).expanduser(), Path(config["utmos"]).expanduser()
    transcripts = read_table(transcripts_path, ("clip", "language", "text"), "transcript table")
    scores = read_table(utmos_path, ("clip", "utmos"), "UTMOS table")
    clips, no_audio = [], 0
    for meta in sorted(meta_dir.glob("*/*/*.txt")):
        speaker, video, utt = meta.parent.parent.name, meta.parent.name, meta.stem
        key = f"{speaker}/{video}/{utt}"
        audio = audio_dir / speaker / video / f"{utt}.wav"
        if not audio.is_file():
            no_audio += 1
            continue
        language = text = utmos = None
        if key in transcripts:
            (language, text), lineno = transcripts[key]
            if not languages.is_known(language):
                raise DataError(f"{where(transcripts_path, lineno)}: unknown language code {language!r}")
        if key in scores:
            (value,), lineno = scores[key]
            try:
                utmos = float(value)
            except ValueError:
                raise DataError(f"{where(utmos_path, lineno)}: UTMOS {value!r} is not a number") from None
        clips.append(Clip(key, speaker, video, utt, clip_span(meta), audio, language, text or None, utmos))
    notes = [f"{no_audio} annotated clip(s) have no audio under {audio_dir} (not downloaded or gone from YouTube)"] \
        if no_audio else []
    unknown = sorted(set(transcripts) - {c.key for c in clips})
    if unknown:
        notes.append(f"{len(unknown)} transcript row(s) name clips without annotation or audio, e.g. {unknown[:3]}")
    return clips, notes


def _seed_for(seed: int, *names: str) -> np.random.Generator:
    digest = hashlib.sha256("/".join(names).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:4], "little")])


def balanced_draw(by_bin: list[list[Clip]], count: int, rng: np.random.Generator,
                  max_per_speaker: int) -> tuple[list[Clip], list[int]]:
    """``count`` clips spread as evenly as the bins allow: bins take turns (in a seeded order)
    drawing one seeded clip each, skipping empty bins and speakers at their limit."""
    pools = [list(rng.permutation(len(b))) for b in by_bin]
    order = list(rng.permutation(len(by_bin)))
    taken: list[Clip] = []
    per_bin = [0] * len(by_bin)
    per_speaker: dict[str, int] = defaultdict(int)
    while len(taken) < count:
        progressed = False
        for b in order:
            while pools[b]:
                clip = by_bin[b][pools[b].pop(0)]
                if per_speaker[clip.speaker] < max_per_speaker:
                    taken.append(clip)
                    per_bin[b] += 1
                    per_speaker[clip.speaker] += 1
                    progressed = True
                    break
            if len(taken) == count:
                break
        if not progressed:
            break
    return taken, per_bin


def build_itw(config: dict[str, Any], progress: bool = True) -> Built:
    root = Path(config["data_root"]).expanduser()
    seed, bins = int(config["seed"]), int(config["bins"])
    low, high = (float(v) for v in config["utmos_range"])
    max_per_speaker = int(config.get("max_per_speaker") or 1)
    counts: dict[str, int] = {str(k): int(v) for k, v in config["counts"].items()}
    clips, notes = scan(config)
    by_speaker: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        by_speaker[clip.speaker].append(clip)
    items, bin_counts = [], {}
    edges = np.linspace(low, high, bins + 1)
    for language, count in sorted(counts.items()):
        eligible = [c for c in clips if c.language == language and c.text and c.utmos is not None
                    and low <= c.utmos <= high and any(o.video != c.video for o in by_speaker[c.speaker])]
        by_bin: list[list[Clip]] = [[] for _ in range(bins)]
        for clip in sorted(eligible, key=lambda c: c.key):
            by_bin[min(int(np.searchsorted(edges, clip.utmos, side="right")) - 1, bins - 1)].append(clip)
        rng = _seed_for(seed, "targets", language)
        targets, per_bin = balanced_draw(by_bin, count, rng, max_per_speaker)
        if len(targets) < count:
            raise DataError(f"in-the-wild {language}: {count} items asked, only {len(targets)} eligible target clips "
                            f"(transcript, UTMOS in [{low}, {high}], the speaker in another video, "
                            f"<= {max_per_speaker} per speaker)")
        bin_counts[language] = per_bin
        for target in sorted(targets, key=lambda c: c.key):
            others = sorted((c for c in by_speaker[target.speaker] if c.video != target.video), key=lambda c: c.key)
            prompt = others[int(_seed_for(seed, "prompt", target.key).integers(len(others)))]
            items.append(Item(
                id=safe_id("itw", language, target.speaker, target.video, target.utt), subset="itw", language=language,
                prompt_wav=relative_to_root(prompt.audio, root, f"clip {prompt.key}"), prompt_text=prompt.text,
                target_text=target.text, gt_wav=relative_to_root(target.audio, root, f"clip {target.key}"),
                speaker=target.speaker,
                meta={"target_clip": target.key, "prompt_clip": prompt.key, "utmos": target.utmos,
                      "target_seconds": target.seconds, "prompt_seconds": prompt.seconds}))
    protocol = {"seed": seed, "counts": counts, "bins": bins, "utmos_range": [low, high],
                "max_per_speaker": max_per_speaker, "per_bin": bin_counts,
                "pairing": "clone clip A and target clip B of one speaker from different videos (seeded)"}
    source = {"dataset": "VoxBlink2", "license": LICENSE, "annotations": str(config["annotations"]),
              "audio": str(config["audio"]), "transcripts": str(config["transcripts"]), "utmos": str(config["utmos"])}
    return Built(items=items, data_root=root, source=source, protocol=protocol, notes=notes)
