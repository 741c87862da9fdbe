"""Finalize a run: ``items.parquet`` (one row per item) and ``results.json`` (aggregates and
provenance, schema-versioned), data only (read back as objects by report.model.load_results). A pure
function of the files in the run directory, so it gives the same bytes however the run was
interrupted or sharded."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ztts1_eval.core import atomic, blobs, layout, stats
from ztts1_eval.pipeline import applicability, manifest as manifest_mod
from ztts1_eval.report.aggregate import aggregate, clean_floats
from ztts1_eval.report.model import (RESULTS_SCHEMA_VERSION, ScorerRecord, reason_column, status_column, value_column,
                                     write_items)
from ztts1_eval.pipeline.generation import load_record, ok_generations

log = logging.getLogger(__name__)

# Columns that measure wall-clock time and so differ between otherwise identical runs.
TIMING_COLUMNS = ("latency_s", "rtf", "ttfb_s")
# Measured per clip (ztts1_eval.pipeline.audio_flags) and kept in items.parquet as <role>_<name>.
AUDIO_COLUMNS = ("peak_dbfs", "rms_dbfs", "speech_s")


def _item_row(run_dir: Path, item: manifest_mod.Item, scorers: dict[str, dict[str, Any]],
              output_is_target: bool = False) -> dict[str, Any]:
    record = load_record(run_dir, item.id)
    row: dict[str, Any] = {
        "id": item.id, "subset": item.subset, "language": item.language, "speaker": item.speaker,
        "target_text": item.target_text, "prompt_wav": item.prompt_wav, "gt_wav": item.gt_wav,
        "status": record.status if record else "pending",
        "failure_reason": record.error if record else None,
        "output_wav": record.wav if record else None,
        "output_sha256": record.sha256 if record else None,
        "sample_rate": record.sample_rate if record else None,
        "duration_s": record.duration_s if record else None,
        # suspicious but decodable audio (ztts1_eval.pipeline.audio_flags): scored, and shown as flagged
        **{f"{role}_flags": "; ".join((record.flags or {}).get(role, [])) or None if record else None
           for role in ("prompt", "gt", "output")},
        # their levels and VAD speech seconds (the whole record: generation/<id>.json "audio")
        **{f"{role}_{name}": ((record.audio or {}).get(role) or {}).get(name) if record else None
           for role in ("prompt", "gt", "output") for name in AUDIO_COLUMNS},
        "latency_s": record.latency_s if record else None,
        "rtf": record.rtf if record else None,
        "seed": record.seed if record else None,
        # API systems: time to first byte and the price-table estimate (see systems/api/base.py)
        "ttfb_s": (record.meta or {}).get("ttfb_s") if record else None,
        "cost": (record.meta or {}).get("cost") if record else None,
    }
    for name, meta in scorers.items():
        status, reason, values = _score_status(run_dir, name, meta, item, record, output_is_target)
        row[status_column(name)] = status
        row[reason_column(name)] = reason
        row.update({value_column(name, field): value for field, value in values.items()})
    return row


def _score_status(run_dir, name, meta, item, record, output_is_target=False) -> tuple[str, str | None, dict[str, Any]]:
    if record is None:
        return "pending", "not generated yet", {}
    if record.status == "unsupported":
        return "unsupported", record.error, {}
    reason = applicability.not_applicable(meta, item, output_is_target)
    if reason:
        return "n/a", reason, {}
    # after the n/a rules: a failed synthesis the scorer would not have scored is not its failure
    if record.status != "ok":
        return "skipped", f"generation {record.status}", {}
    path = layout.score_file(run_dir, name, item.id)
    if not path.is_file():
        return "pending", "not scored yet", {}
    score = atomic.read_json(path)
    if score.get("audio_sha256") != record.sha256:
        return "stale", "output audio changed after scoring; rerun to rescore", {}
    if score.get("scorer_identity_hash") != meta["identity_hash"]:
        return "stale", "scored by another version of this scorer; rerun to rescore", {}
    if meta.get("needs_all_samples"):
        done = ok_generations(run_dir, item.id, meta.get("generations") or 1)
        if done is None:
            return "pending", "a generation is not finished yet", {}
        if score.get("generations_sha256") != [record.sha256 for record in done]:
            return "stale", "scored on other generations (generations changed); rerun to rescore", {}
    return score["status"], score.get("reason"), score.get("values") or {}


def _cost(frame: pd.DataFrame, system: dict[str, Any]) -> dict[str, Any] | None:
    """Sum of the per-item estimates from the system's price table (None without one)."""
    price = system.get("price") or {}
    costs = pd.to_numeric(frame["cost"], errors="coerce").dropna() if "cost" in frame else pd.Series(dtype=float)
    if not price or costs.empty:
        return None
    return {"total": round(float(costs.sum()), 6), "currency": price.get("currency", "USD"), "items": int(len(costs)),
            "price": price, "note": "estimate from the configured price table, successful requests only"}


def is_complete(frame: pd.DataFrame) -> bool:
    status_cols = [c for c in frame.columns if c == "status" or c.endswith("_status")]
    return not frame[status_cols].isin(["pending", "stale"]).any().any()


def is_current(run_dir: Path) -> bool:
    """``results.json`` was written after every record it is made of: records are written by an
    atomic rename into their folder, which moves the folder's mtime, so a newer folder (or
    run.json / system.json) means something changed since the last finalize."""
    final = layout.results_file(run_dir)
    if not final.is_file() or not layout.items_file(run_dir).is_file():
        return False
    if atomic.read_json(final).get("schema_version") != RESULTS_SCHEMA_VERSION:
        return False  # written by an older version: finalizing again migrates it
    scores = layout.scores_dir(run_dir)
    sources = [layout.run_file(run_dir), layout.system_file(run_dir), layout.record_dir(run_dir),
               layout.shard_dir(run_dir), scores]
    if scores.is_dir():
        sources += [p for p in scores.iterdir() if p.is_dir()]
    written = final.stat().st_mtime_ns
    return all(not p.exists() or p.stat().st_mtime_ns <= written for p in sources)


def finalize(run_dir: Path, force: bool = False) -> dict[str, Any] | None:
    """Write items.parquet and results.json. Returns what results.json holds, or None when
    items are still pending (other shards running) and ``force`` is false."""
    run_dir = Path(run_dir)
    run = atomic.read_json(layout.run_file(run_dir))
    items = manifest_mod.load(layout.manifest_file(run_dir), run["data_root"], check_files=False).items
    scorers = {name: atomic.read_json(layout.scorer_meta_file(run_dir, name))
               for name in run["scorers"] if layout.scorer_meta_file(run_dir, name).is_file()}
    missing = [name for name in run["scorers"] if name not in scorers]
    if missing and not force:
        log.info("run %s: scorers %s have not run yet; not finalizing", run_dir, missing)
        return None
    output_is_target = applicability.output_is_target(run["system"])  # its output is the target recording
    frame = pd.DataFrame([_item_row(run_dir, item, scorers, output_is_target)
                          for item in sorted(items, key=lambda i: i.id)])
    complete = is_complete(frame) and not missing
    if not complete and not force:
        log.info("run %s: items still pending (other shards?); not finalizing", run_dir)
        return None
    write_items(frame, layout.items_file(run_dir))
    system = atomic.read_json(layout.system_file(run_dir)) if layout.system_file(run_dir).is_file() else {}
    results = clean_floats({
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run_id": run["run_id"],
        "complete": complete,
        "benchmark": run["benchmark"],
        "system": {**run["system"], "describe": system},
        "scorers": scorers,
        "counts": {k: int(v) for k, v in frame["status"].value_counts().sort_index().items()},
        "cost_estimate": _cost(frame, system),
        "flagged": {role: int(frame[f"{role}_flags"].notna().sum()) for role in ("prompt", "gt", "output")},
        "aggregates": aggregate(frame, {name: ScorerRecord.from_record(name, meta) for name, meta in scorers.items()},
                                lambda ref: blobs.get(layout.scores_dir(run_dir), ref)),
        "statistics": {"version": stats.STATS_VERSION, "ci": "percentile bootstrap over items",
                       "level": stats.LEVEL, "resamples": stats.RESAMPLES, "seed": stats.SEED},
        "seed": run["seed"],
        "generations": run.get("generations", 1),
        "failed_as_worst": bool(run.get("failed_as_worst", False)),
        "speech_check": run.get("speech_check"),
        "provenance": run["provenance"],
    })
    atomic.write_json(layout.results_file(run_dir), results)
    return results
