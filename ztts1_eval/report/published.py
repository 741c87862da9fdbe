"""The ZONOS2 report's published numbers (``ztts1-published.csv``: table, section, system,
metric, language, value), shown beside ours in tables, never mixed into our aggregates.

A run is matched to a published table by its benchmark's ``published_table`` and to a published
system by its system config's ``published_as`` (default: its label). Values are kept as the
CSV's strings, so a published row shows exactly what the paper printed.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

from ztts1_eval.core.provenance import REPO_ROOT

from ztts1_eval.report.profile import PUBLISHED_METRICS as METRICS

CSV_ENV = "ZTTS1_PUBLISHED_CSV"


def csv_path() -> Path:
    return Path(os.environ.get(CSV_ENV) or REPO_ROOT.parent / "shared" / "docs" / "ztts1-published.csv")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[tuple[str, str, str], dict[str, dict[str, str]]]:
    """(table, system, metric) -> section -> column -> value string."""
    table: dict[tuple[str, str, str], dict[str, dict[str, str]]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["table"], row["system"], row["metric"])
            table.setdefault(key, {}).setdefault(row["section"], {})[row["language"]] = row["value"]
    return table


def lookup(table: str, system: str, field: str, clones: bool = True, columns: dict[str, str] | None = None,
           section: str | None = None) -> tuple[str, dict[str, str]] | None:
    """(published metric name, {column: value string}) or None when the paper has no such row.
    A system that cannot clone is published as "Spk. sim.*". ``columns`` maps our table columns
    to the report's where it names them otherwise (Table VII: ``en`` -> ``Test-EN``); ``section``
    picks one of the table's sub-benchmarks (Table VII's CV3-Eval "Zero-shot"), where sections
    are row groups (Tables III/IV) every section is read."""
    path = csv_path()
    if not path.is_file() or field not in METRICS:
        return None
    published = _load(str(path))
    names = [METRICS[field]] + ([METRICS[field] + "*"] if field == "sim" else [])
    if field == "sim" and not clones:
        names.reverse()
    for name in names:
        sections = published.get((table, system, name)) or {}
        values = sections.get(section, {}) if section else {k: v for part in sections.values() for k, v in part.items()}
        if values:
            if columns:
                values = {ours: values[theirs] for ours, theirs in columns.items() if theirs in values}
            return name, values
    return None
