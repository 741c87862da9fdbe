"""Re-check a built manifest against the audio on disk: every file its header lists must exist
and still have the recorded SHA-256."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ztts1_eval import manifest as manifest_mod
from ztts1_eval.audio import file_sha256
from ztts1_eval.data.common import DataError


@dataclass
class Report:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)  # audio an item uses that the header has no checksum for

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
        return "\n".join(lines)


def verify(path: Path, data_root: Path, progress: bool = True) -> Report:
    header = manifest_mod.read_header(path)
    build = header.get("build")
    if not build or "audio_sha256" not in build:
        raise DataError(f"{path} has no build record with checksums (it was not written by `ztts1-eval data build`)")
    report = Report()
    items = manifest_mod.load(path, data_root, check_files=False).items
    used = {p for item in items for p in (item.prompt_wav, item.gt_wav) if p}
    report.unlisted = sorted(used - set(build["audio_sha256"]))
    for rel, expected in tqdm(sorted(build["audio_sha256"].items()), desc="verify audio", unit="file",
                              disable=not progress):
        full = Path(data_root) / rel
        report.checked += 1
        if not full.is_file():
            report.missing.append(rel)
        elif file_sha256(full) != expected:
            report.changed.append(rel)
    return report
