"""Paper-style tables (rows = system x metric, columns = languages, like Table III of the
ZONOS2 report), rendered from stored ``results.json`` aggregates only."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ztts1_eval import atomic, languages

SECTION_ORDER = ["Reference", "Baselines", "Open-source models", "Closed-source models"]


def _columns(results: list[dict[str, Any]]) -> list[str]:
    langs = {lang for r in results for lang in r["aggregates"]["by_language"]}
    return sorted(langs, key=languages.column_sort_key) + ["all"]


def _cell(result: dict[str, Any], column: str, key: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    agg = result["aggregates"]
    group = agg["all"] if column == "all" else agg["by_language"].get(column)
    if group is None:
        return None, None
    return group.get(key), group["_items"]


def _text(value: float | None, cell: dict[str, Any] | None, items: dict[str, Any] | None, decimals: int) -> str:
    if cell is None or items is None:
        return ""
    if cell["n"] == 0:
        status = items["status"]
        if cell["n_not_applicable"] == cell["n_items"]:
            return "n/a"
        for word in ("unsupported", "failed", "pending"):
            if status.get(word, 0) == items["n"]:
                return word
        return "no score"
    if value is None:  # a distribution metric over too few items, or without noise features
        reasons = set((cell.get("skipped") or {}).values())
        return "too few items" if any(r.startswith("fewer than") for r in reasons) else "no score"
    notes = []
    if cell["n_failed"]:
        notes.append(f"{cell['n_failed']}✗")
    if cell["n_pending"]:
        notes.append(f"{cell['n_pending']} pending")
    if cell["n_unsupported"]:
        notes.append(f"{cell['n_unsupported']} unsup.")
    return f"{value:.{decimals}f}" + (f" ({', '.join(notes)})" if notes else "")


def _rows(results: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    rows = []
    ordered = sorted(results, key=lambda r: (SECTION_ORDER.index(r["system"].get("section", "Baselines"))
                                             if r["system"].get("section") in SECTION_ORDER else len(SECTION_ORDER),
                                             r["system"]["label"].lower(), r["run_id"]))
    labels = [r["system"]["label"] for r in ordered]
    for result in ordered:
        label = result["system"]["label"]
        if labels.count(label) > 1:
            label = f"{label} [{result['run_id']}]"
        clones = result["system"].get("describe", {}).get("capabilities", {}).get("clones_from_audio", True)
        for scorer_name, meta in result["scorers"].items():
            for metric in meta["metrics"]:
                key = f"{scorer_name}.{metric['field']}"
                arrow = "↑" if metric["higher_is_better"] else "↓"
                name = metric["label"] + ("*" if metric["field"] == "sim" and not clones else "")
                variants = [("mean", f"{name} {arrow}")]
                if metric.get("corpus_numerator"):
                    variants.append(("corpus", f"{name} corpus {arrow}"))
                for aggregation, metric_label in variants:
                    row = {"section": result["system"].get("section", ""), "system": label,
                           "metric": metric_label, "field": key, "aggregation": aggregation,
                           "values": {}, "texts": {}}
                    for column in columns:
                        cell, items = _cell(result, column, key)
                        raw = cell.get(aggregation) if cell else None
                        value = raw * metric["scale"] if raw is not None else None
                        row["values"][column] = value
                        row["texts"][column] = _text(value, cell, items, metric["decimals"])
                    rows.append(row)
    return rows


def _footnotes(results: list[dict[str, Any]]) -> list[str]:
    notes = [
        "Values are per-item means over scored items; 'corpus' rows sum edit operations over items "
        "(errors / reference words or characters). '(k✗)' = k items without a score (generation or "
        "scoring failed), 'k unsup.' = k items in a language the system does not speak; 'n/a' = the "
        "scorer does not cover this language; 'unsupported' = the system does not speak it. 'all' pools "
        "every scored item of the run, so it is comparable across systems only where their coverage matches.",
        "Spk. sim.* = the system cannot clone (preset voice): similarity is to the prompt speaker anyway.",
    ]
    seen = set()
    for result in results:
        for name, meta in result["scorers"].items():
            ident = meta["identity"]
            line = f"`{name}`: {ident.get('model')} ({ident.get('package', '')}, identity {meta['identity_hash']}"
            if "normalizer" in ident:
                line += f", normalizer {ident['normalizer']['name']} v{ident['normalizer']['version']}"
            line += f", batch {meta['batch_size']}, {meta['sample_rate']} Hz)"
            if meta.get("languages") is not None:
                line += f"; n/a: {meta['unsupported_reason']}"
            if line not in seen:
                seen.add(line)
                notes.append(line)
    for result in results:
        counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
        notes.append(f"{result['system']['label']} (run {result['run_id']}): {counts}")
    return notes


def render_markdown(results: list[dict[str, Any]]) -> str:
    columns = _columns(results)
    rows = _rows(results, columns)
    benchmarks = sorted({r["benchmark"]["name"] for r in results})
    lines = [f"# {', '.join(benchmarks)}: results", "",
             "| System | Metric | " + " | ".join(columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    previous = None
    for row in rows:
        system = row["system"] if row["system"] != previous else ""
        previous = row["system"]
        lines.append(f"| {system} | {row['metric']} | " + " | ".join(row["texts"][c] for c in columns) + " |")
    lines += [""] + [f"- {note}" for note in _footnotes(results)]
    return "\n".join(lines) + "\n"


def render_csv(results: list[dict[str, Any]]) -> str:
    columns = _columns(results)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "system", "metric", "field", "aggregation", *columns])
    for row in _rows(results, columns):
        values = ["" if row["values"][c] is None else f"{row['values'][c]:.6g}" for c in columns]
        writer.writerow([row["section"], row["system"], row["metric"], row["field"], row["aggregation"], *values])
    return buf.getvalue()


def write_tables(results: list[dict[str, Any]], stem: Path) -> str:
    """Write ``<stem>.md`` and ``<stem>.csv``; return the markdown."""
    markdown = render_markdown(results)
    atomic.write_text(stem.with_suffix(".md"), markdown)
    atomic.write_text(stem.with_suffix(".csv"), render_csv(results))
    return markdown
