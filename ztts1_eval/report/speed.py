"""Speed and cost per system, in a table of its own (``speed.{md,csv}``), never mixed into the
quality tables: per-item latency, real-time factor and (API systems) time to first byte as
median, p95 and mean over the items whose synthesis succeeded, and the price-table estimate.

These are the times each run recorded while it ran (its batch size, machine and concurrency);
comparing systems needs runs made alike. Serving-style load tests are a separate measurement.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ztts1_eval.core import atomic
from ztts1_eval.report.model import Results, system_labels
from ztts1_eval.report.tables import ordered

MEASURES = (("latency_s", "Latency (s)"), ("rtf", "RTF"), ("ttfb_s", "TTFB (s)"))
COLUMNS = ["system", "run_id", "n_ok", *[f"{name}_{stat}" for name, _ in MEASURES for stat in ("p50", "p95", "mean")],
           "cost_total", "currency"]


def speed_frame(results: list[Results]) -> pd.DataFrame:
    rows = []
    runs = ordered(results)
    for label, result in zip(system_labels(runs), runs):
        items = result.items()
        ok = items[items["status"] == "ok"]
        row = {"system": label, "run_id": result.run_id, "n_ok": int(len(ok))}
        for name, _ in MEASURES:
            values = pd.to_numeric(ok[name], errors="coerce").dropna().to_numpy(dtype=float)
            row.update({f"{name}_p50": float(np.median(values)) if values.size else None,
                        f"{name}_p95": float(np.percentile(values, 95)) if values.size else None,
                        f"{name}_mean": float(values.mean()) if values.size else None})
        cost = result.cost_estimate or {}
        row.update({"cost_total": cost.get("total"), "currency": cost.get("currency")})
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(value: float | None, digits: int = 3) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def render_markdown(frame: pd.DataFrame) -> str:
    header = ["System", "n ok"] + [f"{label} p50 / p95 / mean" for _, label in MEASURES] + ["Cost (estimate)"]
    lines = ["# Speed and cost (as recorded by each run)", "", "| " + " | ".join(header) + " |",
             "|---|---:|" + "---:|" * (len(MEASURES) + 1)]
    for row in frame.to_dict("records"):
        cells = [" / ".join(_cell(row[f"{name}_{stat}"]) for stat in ("p50", "p95", "mean"))
                 if row[f"{name}_p50"] is not None and not pd.isna(row[f"{name}_p50"]) else "" for name, _ in MEASURES]
        cost = f"{row['cost_total']:.4f} {row['currency']}" if row["cost_total"] is not None and not pd.isna(row["cost_total"]) else ""
        lines.append(f"| {row['system']} | {row['n_ok']} | " + " | ".join(cells) + f" | {cost} |")
    lines += ["", "- Over items whose synthesis succeeded. Latency: per item as the system adapter measured it "
                  "(a batch's time divided among its items for batched systems); RTF = latency / output seconds; "
                  "TTFB: API systems' time to the first response byte. Times depend on the machine, batch size and "
                  "concurrency of each run: compare systems only across runs made alike."]
    return "\n".join(lines) + "\n"


def write_speed(results: list[Results], stem: Path) -> pd.DataFrame:
    """``<stem>.md`` and ``<stem>.csv``."""
    frame = speed_frame(results)
    atomic.write_text(stem.with_suffix(".md"), render_markdown(frame))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.6g", quoting=csv.QUOTE_MINIMAL)
    atomic.write_text(stem.with_suffix(".csv"), buf.getvalue())
    return frame
