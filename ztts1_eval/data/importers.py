"""Importers for the evaluation lists other benchmarks publish, into our manifest schema.

- Seed-TTS-Eval ``meta.lst``: ``utt|prompt_text|prompt_wav|target_text[|gt_wav]``, audio paths
  relative to the list's folder. Lines with fewer fields (its ASR-only forms) have no prompt
  audio to clone and are refused by line.
- CV3-Eval leaf directories (``data/zero_shot/<leaf>/``, ``data/cross_lingual_zeroshot/to_<x>/``,
  ``data/emotion_zeroshot/<language>/<emotion>/``): ``text``, ``prompt_text`` and
  ``prompt_wav.scp`` (Kaldi tables, ``utt value``) joined on the utterance id; prompt paths are
  relative to the CV3-Eval checkout (as published) or to the leaf. Ids are prefixed by the leaf;
  an emotion leaf's items are subset ``emotion`` in its language, with the label in their meta.
- MiniMax multilingual test set: ``text/<language>.txt`` (``speaker|text``), the speaker's prompt
  clip ``speaker/<language>/<speaker>/<clip>`` and ``speaker/prompt_text.txt`` (``<clip>|text``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ztts1_eval.data.common import Built, DataError, read_lines, relative_to_root, safe_id, where
from ztts1_eval.pipeline.manifest import Item

# CV3-Eval leaf -> language (zero-shot leaves and cross-lingual targets).
CV3_LANGUAGES = {"zh": "zh", "en": "en", "hard_zh": "zh", "hard_en": "en", "ja": "ja", "ko": "ko", "de": "de",
                 "es": "es", "fr": "fr", "it": "it", "ru": "ru", "to_zh": "zh", "to_en": "en", "to_ja": "ja",
                 "to_ko": "ko", "to_hard_zh": "zh", "to_hard_en": "en"}
MINIMAX_LANGUAGES = {
    "arabic": "ar", "cantonese": "yue", "chinese": "zh", "czech": "cs", "dutch": "nl", "english": "en",
    "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hindi": "hi", "indonesian": "id",
    "italian": "it", "japanese": "ja", "korean": "ko", "polish": "pl", "portuguese": "pt", "romanian": "ro",
    "russian": "ru", "spanish": "es", "thai": "th", "turkish": "tr", "ukrainian": "uk", "vietnamese": "vi"}
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


def read_kaldi_table(path: Path, what: str) -> dict[str, tuple[str, int]]:
    """``utt value`` lines -> {utt: (value, line number)}; duplicates and empty values are errors."""
    table: dict[str, tuple[str, int]] = {}
    for lineno, line in read_lines(path, what):
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2:
            raise DataError(f"{where(path, lineno)}: expected 'utterance-id value', got {line.strip()!r}")
        utt, value = parts
        if utt in table:
            raise DataError(f"{where(path, lineno)}: utterance {utt} already on line {table[utt][1]}")
        table[utt] = (value.strip(), lineno)
    return table


def _audio(path: Path, what: str, line: str) -> Path:
    if not path.is_file():
        raise DataError(f"{line}: {what} not found: {path}")
    return path


def _root(config: dict[str, Any], default: Path) -> Path:
    return Path(config.get("data_root") or default).expanduser()


def build_seed_tts(config: dict[str, Any], progress: bool = True) -> Built:
    lst = Path(config["list"]).expanduser()
    language, subset = config.get("language"), config.get("subset")
    if not language:
        raise DataError("seedtts: set language= (en or zh; the list does not say)")
    # zh/hardcase.lst is the report's Test-ZH-Hard: the hard_zh column, as ZTTS1's hard subsets
    subset = subset or ("hard_zh" if lst.stem == "hardcase" and language == "zh" else f"seedtts_{lst.stem}")
    root = _root(config, lst.parent)
    items = []
    for lineno, line in read_lines(lst, "Seed-TTS-Eval list"):
        fields = [f.strip() for f in line.split("|")]
        at = where(lst, lineno)
        if not 2 <= len(fields) <= 5:
            raise DataError(f"{at}: expected 2 to 5 '|'-separated fields, got {len(fields)}")
        if len(fields) < 4:
            raise DataError(f"{at}: a {len(fields)}-field line has no prompt audio to clone from "
                            f"(need utt|prompt_text|prompt_wav|target_text[|gt_wav])")
        utt, prompt_text, prompt_wav, target_text = fields[:4]
        if not utt or not target_text or not prompt_wav:
            raise DataError(f"{at}: empty utterance id, prompt_wav or target_text")
        prompt = _audio(lst.parent / prompt_wav, "prompt audio", at)
        gt = _audio(lst.parent / fields[4], "ground-truth audio", at) if len(fields) == 5 and fields[4] else None
        items.append(Item(
            id=safe_id(subset, utt), subset=subset, language=language,
            prompt_wav=relative_to_root(prompt, root, f"{at}: prompt audio"), prompt_text=prompt_text or None,
            target_text=target_text, gt_wav=relative_to_root(gt, root, f"{at}: ground truth") if gt else None,
            meta={"source_utt": utt}))
    return Built(items=items, data_root=root,
                 source={"dataset": "Seed-TTS-Eval", "list": str(lst), "license": "see BytedanceSpeech/seed-tts-eval"},
                 protocol={"language": language, "subset": subset, "paths": "relative to the list's folder"})


def _cv3_leaf_items(leaf: Path, language: str | None, root: Path) -> list[Item]:
    name, subset, meta = leaf.name, leaf.name, {}
    if leaf.parent.parent.name == "emotion_zeroshot":  # <language>/<emotion>: Table VII's emotion rows
        name, subset, meta = f"emotion_{leaf.parent.name}_{leaf.name}", "emotion", {"emotion": leaf.name}
        language = language or CV3_LANGUAGES.get(leaf.parent.name)
    language = language or CV3_LANGUAGES.get(name)
    if language is None:
        raise DataError(f"CV3-Eval leaf {leaf}: unknown leaf name {name!r}; set language=")
    texts = read_kaldi_table(leaf / "text", "CV3-Eval text")
    prompt_texts = read_kaldi_table(leaf / "prompt_text", "CV3-Eval prompt_text")
    prompt_wavs = read_kaldi_table(leaf / "prompt_wav.scp", "CV3-Eval prompt_wav.scp")
    for table, what in ((prompt_texts, "prompt_text"), (prompt_wavs, "prompt_wav.scp")):
        missing = sorted(set(texts) - set(table))
        if missing:
            raise DataError(f"{leaf / what}: no entry for utterance(s) {missing[:5]} listed in {leaf / 'text'}")
    # the CV3-Eval checkout: the folder holding data/ (prompt paths in the tables start there)
    checkout = next((p.parent for p in leaf.parents if p.name == "data"), leaf.parents[2] if len(leaf.parents) > 2 else leaf)
    intensity = _cv3_intensities(leaf) if subset == "emotion" else {}
    items = []
    for utt, (text, lineno) in sorted(texts.items()):
        value, wav_line = prompt_wavs[utt]
        candidates = [Path(value)] if Path(value).is_absolute() else [checkout / value, leaf / value]
        prompt = next((c for c in candidates if c.is_file()), None)
        if prompt is None:
            raise DataError(f"{where(leaf / 'prompt_wav.scp', wav_line)}: prompt audio not found "
                            f"(tried {', '.join(str(c) for c in candidates)})")
        at = where(leaf / "prompt_wav.scp", wav_line)
        items.append(Item(id=safe_id(name, utt), subset=subset, language=language,
                          prompt_wav=relative_to_root(prompt, root, f"{at}: prompt audio"),
                          prompt_text=prompt_texts[utt][0], target_text=text,
                          meta={"source_utt": utt, **meta, **({"intensity": intensity[utt]} if utt in intensity else {})}))
    return items


def _cv3_intensities(leaf: Path) -> dict[str, str]:
    """An emotion leaf's utterance -> intensity (high/low), from the language folder's
    prompt_wav.scp whose keys are ``<emotion>_<intensity>_<utterance>`` (what CV3-Eval's
    eval_emotation.py splits its scores by)."""
    table = leaf.parent / "prompt_wav.scp"
    if not table.is_file():
        return {}
    found = {}
    for key, _ in read_kaldi_table(table, "CV3-Eval prompt_wav.scp").items():
        parts = key.split("_", 2)
        if len(parts) == 3 and parts[0] == leaf.name and parts[1] in ("high", "low"):
            found[parts[2]] = parts[1]
    return found


def build_cv3(config: dict[str, Any], progress: bool = True) -> Built:
    leaves = [Path(p).expanduser() for p in (config.get("leaves") or [])]
    if not leaves:
        raise DataError("cv3: set leaves=[<CV3-Eval>/data/zero_shot/<leaf>, ...]")
    for leaf in leaves:
        if not leaf.is_dir():
            raise DataError(f"cv3: leaf directory not found: {leaf}")
    root = _root(config, next((p.parent for p in leaves[0].parents if p.name == "data"),
                              leaves[0].parents[2] if len(leaves[0].parents) > 2 else leaves[0]))
    items = [item for leaf in leaves for item in _cv3_leaf_items(leaf, config.get("language"), root)]
    return Built(items=items, data_root=root,
                 source={"dataset": "CV3-Eval", "leaves": [str(p) for p in leaves], "license": "see FunAudioLLM/CV3-Eval"},
                 protocol={"join": "text, prompt_text, prompt_wav.scp on utterance id", "ids": "<leaf>-<utt>"})


def build_minimax(config: dict[str, Any], progress: bool = True) -> Built:
    base = Path(config["root"]).expanduser()
    wanted = config.get("languages") or sorted(p.stem for p in (base / "text").glob("*.txt"))
    if not wanted:
        raise DataError(f"minimax: no text/<language>.txt under {base}")
    root = _root(config, base)
    prompt_texts = {}
    prompt_file = base / "speaker" / "prompt_text.txt"
    for lineno, line in read_lines(prompt_file, "MiniMax prompt_text.txt"):
        clip, sep, text = line.partition("|")
        if not sep or not clip.strip() or not text.strip():
            raise DataError(f"{where(prompt_file, lineno)}: expected '<clip>|<prompt text>'")
        prompt_texts[clip.strip()] = text.strip()
    items = []
    for name in wanted:
        language = MINIMAX_LANGUAGES.get(name)
        if language is None:
            raise DataError(f"minimax: unknown language {name!r} (known: {', '.join(sorted(MINIMAX_LANGUAGES))})")
        text_file = base / "text" / f"{name}.txt"
        for n, (lineno, line) in enumerate(read_lines(text_file, "MiniMax text file")):
            at = where(text_file, lineno)
            speaker, sep, text = line.partition("|")
            speaker, text = speaker.strip(), text.strip()
            if not sep or not speaker or not text:
                raise DataError(f"{at}: expected '<speaker>|<text>'")
            folder = base / "speaker" / name / speaker
            clips = sorted(p for p in folder.glob("*") if p.suffix.lower() in AUDIO_SUFFIXES) if folder.is_dir() else []
            if len(clips) != 1:
                raise DataError(f"{at}: speaker {speaker} needs exactly one prompt clip in {folder}, found {len(clips)}")
            clip = clips[0]
            if clip.name not in prompt_texts:
                raise DataError(f"{at}: {prompt_file} has no prompt text for {clip.name}")
            items.append(Item(id=safe_id("minimax", name, f"{n:04d}"), subset="minimax", language=language,
                              prompt_wav=relative_to_root(clip, root, f"{at}: prompt audio"),
                              prompt_text=prompt_texts[clip.name], target_text=text, speaker=speaker,
                              meta={"source_line": lineno}))
    return Built(items=items, data_root=root,
                 source={"dataset": "MiniMaxAI/TTS-Multilingual-Test-Set", "root": str(base),
                         "license": "see the dataset card"},
                 protocol={"languages": list(wanted), "ids": "minimax-<language>-<line index>"})
