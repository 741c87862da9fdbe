"""The run directory: every file and folder a run writes, named in this one module.

    <results_dir>/<benchmark>/<system>/<run_id>/
        run.json                 what was asked (config, provenance), written by every shard
        system.json              what the system said it is (describe())
        manifest.jsonl           the run's items
        generation/<id>.json     one record per generation (status, seed, sha256, flags, levels)
        wavs/<id>.wav            the outputs
        scores/<scorer>/_scorer.json, <id>.json, blobs   per-scorer description and per-item scores
        shards/<i>-of-<n>.json   each shard's config hash and code version
        locks/                   one lock per shard while it runs
        items.parquet, results.json, table.{md,csv,tex}, table_long.csv   written by finalize

Stages are joined only by these files; nothing else spells a path inside a run directory.
"""

from __future__ import annotations

from pathlib import Path

RUN_FILE = "run.json"
SYSTEM_FILE = "system.json"
MANIFEST_FILE = "manifest.jsonl"
ITEMS_FILE = "items.parquet"
RESULTS_FILE = "results.json"
TABLE_STEM = "table"
RECORD_DIR = "generation"
WAV_DIR = "wavs"
SCORES_DIR = "scores"
SCORER_META = "_scorer.json"
SHARD_DIR = "shards"
LOCK_DIR = "locks"


def run_dir(results_dir: Path, benchmark: str, system: str, run_id: str) -> Path:
    return Path(results_dir) / benchmark / system / run_id


def run_dirs(results_dir: Path, benchmark: str) -> list[Path]:
    """Every run directory of a benchmark under a results directory, in path order."""
    return sorted(p.parent for p in (Path(results_dir) / benchmark).glob(f"*/*/{RUN_FILE}"))


def run_file(run_dir: Path) -> Path:
    return Path(run_dir) / RUN_FILE


def system_file(run_dir: Path) -> Path:
    return Path(run_dir) / SYSTEM_FILE


def manifest_file(run_dir: Path) -> Path:
    return Path(run_dir) / MANIFEST_FILE


def items_file(run_dir: Path) -> Path:
    return Path(run_dir) / ITEMS_FILE


def results_file(run_dir: Path) -> Path:
    return Path(run_dir) / RESULTS_FILE


def table_stem(run_dir: Path) -> Path:
    """``<stem>.md``, ``.csv``, ``.tex`` and ``<stem>_long.csv`` (see tables.write_tables)."""
    return Path(run_dir) / TABLE_STEM


def record_dir(run_dir: Path) -> Path:
    return Path(run_dir) / RECORD_DIR


def record_file(run_dir: Path, item_id: str) -> Path:
    return record_dir(run_dir) / f"{item_id}.json"


def wav_relpath(item_id: str) -> str:
    """Where an output lives, relative to the run directory (as records store it)."""
    return f"{WAV_DIR}/{item_id}.wav"


def scores_dir(run_dir: Path) -> Path:
    """Also the run's blob store: the arrays score records refer to (ztts1_eval.core.blobs)."""
    return Path(run_dir) / SCORES_DIR


def scorer_meta_file(run_dir: Path, scorer: str) -> Path:
    return scores_dir(run_dir) / scorer / SCORER_META


def score_file(run_dir: Path, scorer: str, item_id: str) -> Path:
    return scores_dir(run_dir) / scorer / f"{item_id}.json"


def shard_dir(run_dir: Path) -> Path:
    return Path(run_dir) / SHARD_DIR


def lock_dir(run_dir: Path) -> Path:
    return Path(run_dir) / LOCK_DIR
