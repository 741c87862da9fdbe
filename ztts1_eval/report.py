"""Regenerate every table from stored run directories; no model is loaded."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ztts1_eval import plots, results, tables
from ztts1_eval.generation import RECORD_DIR as GENERATION_DIR

log = logging.getLogger(__name__)


def run_dirs(results_dir: Path, benchmark: str) -> list[Path]:
    return sorted(p.parent for p in (results_dir / benchmark).glob(f"*/*/{results.RUN_FILE}"))


def report(results_dir: Path, benchmark: str) -> tuple[str, list[dict[str, Any]]]:
    """Re-finalize each run of ``benchmark``; write ``<results_dir>/<benchmark>/table.{md,csv}`` and
    the figures under ``plots/``."""
    collected, collected_dirs = [], []
    for run_dir in run_dirs(results_dir, benchmark):
        if not any((run_dir / GENERATION_DIR).glob("*.json")):
            log.warning("run %s has no generated items (did it fail at start?); left out of the table", run_dir)
            continue
        final = results.finalize(run_dir, force=True)
        if final is None:
            continue
        if not final["complete"]:
            log.warning("run %s is incomplete (pending items shown as such)", run_dir)
        collected.append(final)
        collected_dirs.append(run_dir)
    if not collected:
        raise FileNotFoundError(f"no runs under {results_dir / benchmark}; run `make eval BENCHMARK={benchmark}` first")
    markdown = tables.write_tables(collected, results_dir / benchmark / "table")
    plots.write_plots(collected, collected_dirs, results_dir / benchmark / "plots")
    return markdown, collected
