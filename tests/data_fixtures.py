"""Small copies of each public source in its exact on-disk layout, with real speech from
../shared/samples cut into short clips (written here, never copied into the repository)."""

from __future__ import annotations

import io
import tarfile
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import SAMPLES

SPEECH = ("en/librispeech_2412-153948-0000.flac", "de/fleurs_de_000.ogg", "zh/aishell_BAC009S0724W0121.wav")
# Where speech begins in each source (Silero VAD): the FLEURS clip opens with 4.3 s of silence,
# and a clip cut from it would fail the pipeline's no-speech check.
SPEECH_STARTS_AT = {"de/fleurs_de_000.ogg": 4.4}


def speech(index: int, seconds: float = 1.0, rate: int = 24000) -> np.ndarray:
    """A short real-speech clip; ``index`` picks the source and the offset, so clips differ."""
    from ztts1_eval.core import audio

    name = SPEECH[index % len(SPEECH)]
    path = SAMPLES / name
    if not path.is_file():
        name = SPEECH[0]
        path = SAMPLES / name
    clip = audio.resample(audio.read_checked(path), rate).samples
    lead_in = SPEECH_STARTS_AT.get(name, 0.3)
    start = int((lead_in + 0.2 * (index // len(SPEECH))) * rate) % max(1, clip.size - int(seconds * rate))
    return clip[start:start + int(seconds * rate)]


def write_wav(path: Path, index: int, rate: int = 24000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, speech(index, rate=rate), rate)
    return path


def write_fleurs_r(root: Path, locales: dict[str, int], split: str = "test") -> Path:
    """``data/<locale>/<split>.tsv`` (no header, 7 columns) and ``audio/<split>.tar.gz`` whose
    members are ``<split>/<file>.wav``. Each sentence id is read twice (two recordings)."""
    for locale, n in locales.items():
        folder = root / "data" / locale
        (folder / "audio").mkdir(parents=True, exist_ok=True)
        rows = []
        with tarfile.open(folder / "audio" / f"{split}.tar.gz", "w:gz") as tar:
            for i in range(n):
                name = f"{1000 + i}{zlib.crc32(locale.encode()) % 97}.wav"
                sentence = 500 + i // 2
                text = f"Sentence {sentence} of {locale}, reading {i % 2}."
                rows.append("\t".join([str(sentence), name, text, text.lower(), " ".join(text.lower()), "14400",
                                       "FEMALE" if i % 3 else "MALE"]))
                buffer = io.BytesIO()
                sf.write(buffer, speech(i), 24000, format="WAV")
                info = tarfile.TarInfo(f"{split}/{name}")
                info.size = len(buffer.getvalue())
                buffer.seek(0)
                tar.addfile(info, buffer)
        (folder / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def write_cv3_leaf(checkout: Path, leaf: str, n: int, group: str = "zero_shot") -> Path:
    """``data/<group>/<leaf>/{text,prompt_text,prompt_wav.scp}`` + ``waveform/``, prompt paths
    relative to the checkout (zero_shot: with the published double slash)."""
    folder = checkout / "data" / group / leaf
    text, prompt_text, scp = [], [], []
    for i in range(1, n + 1):
        write_wav(folder / "waveform" / f"prompt_audio_{i}.wav", i, rate=16000)
        text.append(f"uttid_{i} Hard text number {i} for {leaf}.")
        prompt_text.append(f"uttid_{i} Prompt words {i}.")
        scp.append(f"uttid_{i} data/{group}{'/' if group == 'zero_shot' else ''}/{leaf}/waveform/prompt_audio_{i}.wav")
    for name, lines in (("text", text), ("prompt_text", prompt_text), ("prompt_wav.scp", scp)):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_seed_tts(root: Path) -> Path:
    """``en/meta.lst`` with 4- and 5-field lines, prompts under ``prompt-wavs/``."""
    folder = root / "en"
    write_wav(folder / "prompt-wavs" / "p1.wav", 0, rate=16000)
    write_wav(folder / "prompt-wavs" / "p2.wav", 1, rate=16000)
    write_wav(folder / "wavs" / "u2.wav", 2, rate=16000)
    (folder / "meta.lst").write_text(
        "u1|Prompt one.|prompt-wavs/p1.wav|Target one.\n"
        "u2|Prompt two.|prompt-wavs/p2.wav|Target two.|wavs/u2.wav\n", encoding="utf-8")
    return folder / "meta.lst"


def write_minimax(root: Path) -> Path:
    for language, speakers in (("english", ("english_female", "english_male")), ("german", ("german_female",))):
        lines = []
        for n, speaker in enumerate(speakers):
            path = root / "speaker" / language / speaker / f"common_voice_{language}_{n}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, speech(n), 24000, format="MP3")
            lines += [f"{speaker}|Line {k} spoken by {speaker}." for k in range(2)]
        (root / "text").mkdir(parents=True, exist_ok=True)
        (root / "text" / f"{language}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prompts = [f"{p.name}|Prompt text of {p.parent.name}." for p in sorted((root / "speaker").rglob("*.mp3"))]
    (root / "speaker" / "prompt_text.txt").write_text("\n".join(prompts) + "\n", encoding="utf-8")
    return root


def write_voxblink2(root: Path, speakers: int = 8, languages: tuple[str, ...] = ("en", "de")) -> dict[str, Path]:
    """Annotation tree (meta/<spk>/<video>/<utt>.txt: 7 header lines, then 25 fps frame rows),
    cut clips (audio/<spk>/<video>/<utt>.wav) and the transcript and UTMOS tables. Each speaker
    has two videos with two clips each; UTMOS values cover [1, 4]."""
    annotations, audio_dir = root / "voxblink2", root / "audio"
    transcripts, scores = [], []
    k = 0
    for s in range(speakers):
        speaker = f"id{s:06d}"
        language = languages[s % len(languages)]
        for v in range(2):
            video = f"VID{s}x{v}abc"
            for u in range(2):
                utt = f"{u:05d}"
                meta = annotations / "meta" / speaker / video / f"{utt}.txt"
                meta.parent.mkdir(parents=True, exist_ok=True)
                header = ["Identity  \t: " + speaker, "Reference \t: " + video, "Offset    \t: 0", "FPS       \t: 25",
                          "Language  \t: " + language, "", "FRAME \tX \tY \tW \tH"]
                rows = [f"{100 + f}\t10\t20\t30\t40" for f in range(0, 50, 5)]  # 45 frames = 1.8 s
                meta.write_text("\n".join(header + rows) + "\n", encoding="utf-8")
                write_wav(audio_dir / speaker / video / f"{utt}.wav", k, rate=16000)
                key = f"{speaker}/{video}/{utt}"
                transcripts.append(f"{key}\t{language}\tWords of {speaker} in video {v} clip {u}.")
                scores.append(f"{key}\t{1.0 + 3.0 * ((k * 7) % 32) / 31:.3f}")
                k += 1
    (root / "transcripts.tsv").write_text("\n".join(transcripts) + "\n", encoding="utf-8")
    (root / "utmos.tsv").write_text("\n".join(scores) + "\n", encoding="utf-8")
    return {"annotations": annotations, "audio": audio_dir, "transcripts": root / "transcripts.tsv",
            "utmos": root / "utmos.tsv"}
