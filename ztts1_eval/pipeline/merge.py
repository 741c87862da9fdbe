"""Merging the shards of a run into its single ``items.parquet`` / ``results.json``.

Shards of one run share the run directory: each writes its own items' records, so merging is
finalizing once every item is done (``results.finalize``, a pure function of the files). What a
merge must add is a refusal to mix: every shard leaves ``shards/<i>-of-<n>.json`` with the
config it ran (shard settings, progress bars and cache location left out), the code version
(git commit and dirty flag, package versions); shards of the current split (the shard count of
the newest record) that disagree are not merged, and the error lists what differs. Records of an
earlier split are superseded (their items' scores are checked as always: stale when the scorer
changed). The runner merges after every shard (the last one to finish writes
the results); ``ztts1-eval merge RUN`` and ``make report`` do it on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ztts1_eval.core.checksums import json_sha256
from ztts1_eval import __version__
from ztts1_eval.core import atomic, layout, provenance
from ztts1_eval.report import results, tables
from ztts1_eval.report.model import Results
from ztts1_eval.core.errors import ConfigError

# Settings that may differ between shards of one run without changing any output.
_LOCAL_SETTINGS = ("shard", "progress", "cache_dir", "hydra", "wait_for_lock", "max_failure_rate")


class ShardMismatch(ConfigError):
    """Shards of one run were made by different configs or code; the message lists the differences."""


def shard_record(config: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    shared = provenance.redact({k: v for k, v in config.items() if k not in _LOCAL_SETTINGS})
    return {
        "shard": {"index": index, "count": count},
        "config_sha256": json_sha256(shared),
        "config": shared,
        "code": {"git": provenance.git_info(), "ztts1_eval": __version__, "packages": provenance.package_versions()},
    }


def write_shard_record(run_dir: Path, record: dict[str, Any]) -> Path:
    shard = record["shard"]
    path = layout.shard_dir(run_dir) / f"{shard['index']}-of-{shard['count']}.json"
    atomic.write_json(path, record)
    return path


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: obj}


def differences(run_dir: Path) -> list[str]:
    """Every config or code value on which the run's shard records disagree."""
    paths = sorted(layout.shard_dir(run_dir).glob("*-of-*.json"))
    records = [(p.stem, atomic.read_json(p)) for p in paths]
    if len(records) < 2:
        return []
    # Records of another shard count are from an earlier split of this run (e.g. a whole run
    # before a rescoring in shards): superseded, not compared. The newest record sets the split.
    newest = max(paths, key=lambda p: p.stat().st_mtime_ns).stem
    count = newest.split("-of-")[1]
    records = [(name, record) for name, record in records if name.split("-of-")[1] == count]
    if len(records) < 2:
        return []
    found = []
    name0, first = records[0]
    flat0 = _flatten({"config": first["config"], "code": first["code"]})
    for name, record in records[1:]:
        flat = _flatten({"config": record["config"], "code": record["code"]})
        for key in sorted(set(flat0) | set(flat)):
            if flat0.get(key) != flat.get(key):
                found.append(f"{key}: shard {name0} has {flat0.get(key)!r}, shard {name} has {flat.get(key)!r}")
    return found


def merge(run_dir: Path, force: bool = False) -> Results | None:
    """Check the shards agree, then finalize: the results, or None while items are pending
    (other shards still running) unless ``force``."""
    found = differences(run_dir)
    if found:
        raise ShardMismatch(f"run {run_dir}: shards were made by different configs or code, not merging:\n  - "
                            + "\n  - ".join(found[:50])
                            + ("" if len(found) <= 50 else f"\n  ... and {len(found) - 50} more")
                            + "\nre-run the odd shard(s) with the same config and code "
                              "(their finished items are kept only if the outputs match)")
    record = results.finalize(Path(run_dir), force=force)
    if record is None:
        return None
    final = Results.from_record(record, Path(run_dir))
    tables.write_tables([final], layout.table_stem(run_dir))  # the run's own; `make report` renders the benchmark's
    return final
