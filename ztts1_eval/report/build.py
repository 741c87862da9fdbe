"""Regenerate every table from stored run directories; no model is loaded."""

from __future__ import annotations

import logging
from pathlib import Path

from ztts1_eval.core import layout
from ztts1_eval.pipeline import merge
from ztts1_eval.report import compare, listening, plots, results, speed, tables
from ztts1_eval.report.model import Results, load_results

log = logging.getLogger(__name__)


def report(results_dir: Path, benchmark: str) -> tuple[str, list[Results]]:
    """Collect each run of ``benchmark`` (finalized again only when a record changed since its
    results were written); write ``<results_dir>/<benchmark>/table.{md,csv}`` and the figures
    under ``plots/``."""
    collected: list[Results] = []
    for run_dir in layout.run_dirs(results_dir, benchmark):
        if not any(layout.record_dir(run_dir).glob("*.json")):
            log.warning("run %s has no generated items (did it fail at start?); left out of the table", run_dir)
            continue
        if results.is_current(run_dir):  # what the last finalize wrote still holds
            final = load_results(run_dir)
        else:
            final = merge.merge(run_dir, force=True)  # refuses shards of different configs or code
        if final is None:
            continue
        if not final.complete:
            log.warning("run %s is incomplete (pending items shown as such)", run_dir)
        collected.append(final)
    if not collected:
        raise FileNotFoundError(f"no runs under {results_dir / benchmark}; run `make eval BENCHMARK={benchmark}` first")
    table = tables.build_table(collected)  # rows built once, for every format and the page
    markdown = tables.write_tables(table, results_dir / benchmark / "table")
    speed.write_speed(collected, results_dir / benchmark / "speed")  # never mixed into the quality table
    plots.write_plots(collected, results_dir / benchmark / "plots")
    write_comparisons(collected, results_dir / benchmark / "compare")
    listening.write_page(collected, results_dir / benchmark, table)
    return markdown, collected


def write_comparisons(collected: list[Results], out_dir: Path) -> list[Path]:
    """Paired comparison of every two evaluated runs (the reference excluded), B against A in
    table order; ``compare/<B>__vs__<A>.{md,csv}``."""
    runs = [r for r in tables.ordered(collected) if r.system.section != "Reference"]
    written = []
    for i, result_a in enumerate(runs):
        for result_b in runs[i + 1:]:
            name_a, name_b = (f"{r.system.name}-{r.run_id}" for r in (result_a, result_b))
            frame = compare.compare(result_a, result_b)
            if frame.empty:
                continue
            label_a, label_b = (f"{r.label} ({r.run_id})" for r in (result_a, result_b))
            stem = out_dir / f"{name_b}__vs__{name_a}"
            compare.write_comparison(frame, label_a, label_b, stem)
            written.append(stem.with_suffix(".md"))
    return written
