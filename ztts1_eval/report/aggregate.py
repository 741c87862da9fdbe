"""Aggregates of per-item scores: per language, per subset and over all items.

Both aggregations users ask for are kept: the per-item mean and, for error rates, the corpus
value from summed edit operations; plus the count of items over 50 % error. Failed and
not-applicable items are counted beside every value, never silently dropped.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

import pandas as pd

from ztts1_eval.core import stats
from ztts1_eval.report import profile
from ztts1_eval.report.model import ScorerRecord, reason_column, status_column, value_column
from ztts1_eval.scorers.base import Metric


# Statuses that get the metric's worst value in means over all items: synthesis failed
# ("skipped" by every scorer) or the scorer failed on the item.
FAILED_AS_WORST = ("failed", "skipped")


def slot_frame(frame: pd.DataFrame, scorer: str) -> pd.DataFrame:
    """The item columns (no dot in their names) and one slot's values under their own field
    names, for code that reads a scorer's fields (the distribution aggregators, figures)."""
    prefix = f"{scorer}."
    own = {c: c[len(prefix):] for c in frame.columns if c.startswith(prefix)}
    return frame[[c for c in frame.columns if "." not in c] + list(own)].rename(columns=own)


# Reads an array a score refers to ("blob:<sha256>", see ztts1_eval.core.blobs).
ArrayLoader = Callable[[str], np.ndarray]


def _metric_cell(frame: pd.DataFrame, scorer: ScorerRecord, metric: Metric,
                 load_array: ArrayLoader | None = None) -> dict[str, Any]:
    status = frame.get(status_column(scorer.slot), pd.Series(dtype=object))
    reason = reason_column(scorer.slot)
    ok = slot_frame(frame[status == "ok"], scorer.slot)
    if metric.distribution:
        cell = profile.distribution_aggregator(metric.distribution)(ok, scorer.record, load_array)
        values = pd.Series([cell["mean"]] if cell["mean"] is not None else [], dtype=float)
    else:
        cell = {}
        values = pd.to_numeric(ok[metric.field], errors="coerce") if metric.field in ok else pd.Series(dtype=float)
        values = values[values.notna()]
        cell["ci95"] = stats.bootstrap_ci(values.to_numpy())
    cell = {
        **cell,
        "n": int(len(ok)) if metric.distribution else int(len(values)),
        "n_items": int(len(frame)),
        # No score because generation failed ("skipped") or scoring failed: always shown.
        "n_failed": int(status.isin(["failed", "stale", "skipped"]).sum()),
        "n_not_applicable": int((status == "n/a").sum()),
        "not_applicable_reasons": sorted(set(frame.loc[status == "n/a", reason].dropna())) if reason in frame else [],
        "n_unsupported": int((status == "unsupported").sum()),
        "n_pending": int((status == "pending").sum()),
        "mean": float(values.mean()) if len(values) else None,
    }
    worst = metric.worst
    if worst is not None and not metric.distribution:
        # Means over all items: a failed synthesis or scoring counts as the metric's worst value,
        # so failing the hardest items cannot improve the number (shown when failed_as_worst).
        n_worst = int(status.isin(FAILED_AS_WORST).sum())
        every = np.concatenate([values.to_numpy(dtype=float), np.full(n_worst, float(worst))])
        cell.update({"worst": float(worst), "n_worst": n_worst,
                     "mean_all": float(every.mean()) if every.size else None,
                     "ci95_all": stats.bootstrap_ci(every) if n_worst else cell["ci95"]})
    if metric.corpus_numerator and len(values):
        errors = pd.to_numeric(ok.loc[values.index, metric.corpus_numerator])
        units = pd.to_numeric(ok.loc[values.index, metric.corpus_denominator])
        cell["corpus"] = float(errors.sum() / units.sum()) if units.sum() else None
        cell["corpus_ci95"] = stats.bootstrap_ci(errors.to_numpy(), units.to_numpy())
        cell["n_over_50pct"] = int((values > 0.5).sum())
    return cell


def aggregate(items: pd.DataFrame, scorers: dict[str, ScorerRecord],
              load_array: ArrayLoader | None = None) -> dict[str, Any]:
    """``{"all": {...}, "by_language": {lang: {...}}, "by_subset": {subset: {...}}, "by_column": ...}``
    (``by_column``: the paper's table columns, see :func:`profile.table_column`) where each
    leaf maps ``<scorer>.<field>`` to a cell of counts and values. ``load_array`` resolves the
    array references of N-dimensional distribution features."""

    def cells(frame: pd.DataFrame) -> dict[str, Any]:
        out = {}
        for scorer in scorers.values():
            for metric in scorer.metrics:
                out[value_column(scorer.slot, metric.field)] = _metric_cell(frame, scorer, metric, load_array)
        out["_items"] = {
            "n": int(len(frame)),
            "status": {k: int(v) for k, v in frame["status"].value_counts().sort_index().items()},
        }
        return out

    columns = items.apply(lambda row: profile.table_column(row["subset"], row["language"]), axis=1) if len(items) else []
    return {
        "all": cells(items),
        "by_language": {lang: cells(g) for lang, g in sorted(items.groupby("language"), key=lambda kv: kv[0])},
        "by_subset": {sub: cells(g) for sub, g in sorted(items.groupby("subset"), key=lambda kv: kv[0])},
        "by_column": {col: cells(g) for col, g in sorted(items.groupby(columns), key=lambda kv: kv[0])},
    }


def clean_floats(obj: Any) -> Any:
    """NaN/inf are not JSON; turn them into None recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean_floats(v) for v in obj]
    return obj
