"""Content-addressed score cache, shared by all runs.

Key = hash(scorer identity, audio bytes hash, reference bytes hash, text, language): a changed
model, parameter, normalizer or audio file is a new key; nothing else is recomputed. Only
successful scores are cached (failures are retried). Files are written atomically, so
concurrent shards on one filesystem can share the cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ztts1_eval.core.checksums import json_sha256
from ztts1_eval.core import atomic


# Bump when the pipeline's own preprocessing changes (decoding, mono mix-down, soxr quality,
# clipping, audio checks): scores computed before are then recomputed.
PIPELINE_VERSION = "1"


def cache_key(scorer_identity: dict[str, Any], audio_sha256: str, reference_sha256: str | None,
              text: str | None, language: str) -> str:
    return json_sha256({"pipeline": PIPELINE_VERSION, "scorer": scorer_identity, "audio": audio_sha256,
                        "reference": reference_sha256, "text": text, "language": language})


class ScoreCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / "scores" / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return atomic.read_json(path)["values"]
        except (ValueError, KeyError):  # unreadable entry: recompute rather than trust it
            return None

    def put(self, key: str, values: dict[str, Any]) -> None:
        atomic.write_json(self._path(key), {"key": key, "values": values})
