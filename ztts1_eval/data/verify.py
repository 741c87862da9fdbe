"""Re-check a built manifest against the audio on disk: every file its header lists must exist
and still have the recorded SHA-256. Files that decode but look wrong (audio_flags) and, with
``speech=True``, files in which the VAD finds no speech are listed as warnings: their items
would be flagged, or fail, at evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ztts1_eval.pipeline import audio_flags
from ztts1_eval.pipeline import manifest as manifest_mod
from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.data.common import DataError
from ztts1_eval.pipeline.speech_check import SpeechCheck, no_speech_reason


@dataclass
class Report:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)  # audio an item uses that the header has no checksum for
    flagged: dict[str, list[str]] = field(default_factory=dict)  # warnings, not errors
    no_speech: list[str] = field(default_factory=list)  # warnings: their items fail at evaluation

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.unlisted)

    def summary(self) -> str:
        lines = [f"{self.checked} audio file(s) checked: {len(self.missing)} missing, {len(self.changed)} changed, "
                 f"{len(self.unlisted)} without a recorded checksum"]
        for title, paths in (("missing", self.missing), ("changed", self.changed), ("no checksum", self.unlisted)):
            lines += [f"  {title}: {p}" for p in paths[:20]]
            if len(paths) > 20:
                lines.append(f"  ... and {len(paths) - 20} more {title}")
        if self.flagged or self.no_speech:
            lines.append(f"warning: {len(self.flagged)} file(s) flagged, {len(self.no_speech)} without speech "
                         "(scored with the flag / their items fail)")
            lines += [f"  flagged: {p}: {'; '.join(flags)}" for p, flags in sorted(self.flagged.items())[:50]]
            lines += [f"  no speech: {p}" for p in self.no_speech[:50]]
        return "\n".join(lines)


def verify(path: Path, data_root: Path, progress: bool = True, speech: bool = False) -> Report:
    header = manifest_mod.read_header(path)
    build = header.get("build")
    if not build or "audio_sha256" not in build:
        raise DataError(f"{path} has no build record with checksums (it was not written by `ztts1-eval data build`)")
    report = Report()
    check = SpeechCheck() if speech else None
    items = manifest_mod.load(path, data_root, check_files=False).items
    used = {p for item in items for p in (item.prompt_wav, item.gt_wav) if p}
    report.unlisted = sorted(used - set(build["audio_sha256"]))
    for rel, expected in tqdm(sorted(build["audio_sha256"].items()), desc="verify audio", unit="file",
                              disable=not progress):
        full = Path(data_root) / rel
        report.checked += 1
        if not full.is_file():
            report.missing.append(rel)
            continue
        if file_sha256(full) != expected:
            report.changed.append(rel)
        found = audio_flags.inspect_file(full, check)
        if found.flags:
            report.flagged[rel] = found.flags
        if no_speech_reason(rel, found.stats):
            report.no_speech.append(rel)
    return report
