"""Paired comparisons of stored runs, regression gates and the run-to-run noise floor.

- ``compare(A, B)``: for every per-item metric both runs scored, on the items both scored, the
  paired bootstrap of mean(B - A) per table column (language / hard subset) and overall, with a
  verdict (better / worse / no detectable change).
- ``gate(baseline, candidate, config)``: the gates that a candidate fails: a metric whose
  interval of the change lies entirely beyond its allowed regression, in the bad direction. The
  allowance is a number in table units, or a multiple of the measured noise floor.
- ``noise_floor(runs)``: the spread of each metric's mean over runs of one system and config that
  differ only in their seed (``ztts1-eval noise-floor`` makes those runs).

Only stored files are read (``items.parquet`` / ``results.json`` of finalized runs).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ztts1_eval.core import atomic, stats
from ztts1_eval.report.aggregate import FAILED_AS_WORST
from ztts1_eval.report.model import Results, SlotMetric, load_results, status_column, value_column
from ztts1_eval.report.profile import table_column
from ztts1_eval.core.errors import ConfigError


def load_run(run: Path | Results) -> tuple[Results, pd.DataFrame]:
    """A run's results and items as its last finalize wrote them (read only, see load_results);
    a run already loaded is used as it is."""
    result = run if isinstance(run, Results) else load_results(run)
    return result, result.items()


def _values(frame: pd.DataFrame, metric: SlotMetric, failed_as_worst: bool = False) -> pd.Series:
    """The metric per item id in table units: scored items, plus (``failed_as_worst``, for a
    metric with a worst value) failed ones at that worst value."""
    status = frame.get(status_column(metric.scorer), pd.Series(index=frame.index, dtype=object))
    ok = frame[status == "ok"]
    column = value_column(metric.scorer, metric.spec.field)
    values = pd.to_numeric(ok.set_index("id")[column], errors="coerce") if column in ok else pd.Series(dtype=float)
    values = values.dropna()
    if failed_as_worst and metric.spec.worst is not None:
        failed = frame.loc[status.isin(FAILED_AS_WORST), "id"]
        values = pd.concat([values, pd.Series(metric.spec.worst, index=failed.to_numpy(), dtype=float)]).sort_index()
    return values * metric.spec.scale


@dataclass(frozen=True)
class Paired:
    metric: SlotMetric
    column: str
    a: np.ndarray
    b: np.ndarray
    same_scorer: bool


def paired_samples(run_a: Path | Results, run_b: Path | Results, failed_as_worst: bool = False) -> list[Paired]:
    """Per metric both runs scored and per table column (and ``all``): the two runs' values on
    the items both scored, in id order. ``failed_as_worst``: an item either run failed counts at
    the metric's worst value instead of leaving the pair (metrics without a worst value keep
    only the items both scored)."""
    result_a, frame_a = load_run(run_a)
    result_b, frame_b = load_run(run_b)
    if result_a.benchmark_name != result_b.benchmark_name:
        raise ConfigError(f"runs are on different benchmarks: {result_a.benchmark_name} vs {result_b.benchmark_name}")
    metrics_a, metrics_b = result_a.per_item_metrics(), result_b.per_item_metrics()
    columns = {row["id"]: table_column(row["subset"], row["language"]) for _, row in frame_a.iterrows()}
    out = []
    for key in sorted(set(metrics_a) & set(metrics_b)):
        metric = metrics_a[key]
        same_scorer = metric.identity_hash == metrics_b[key].identity_hash
        a, b = _values(frame_a, metric, failed_as_worst), _values(frame_b, metrics_b[key], failed_as_worst)
        common = sorted(set(a.index) & set(b.index))
        groups = {"all": common}
        for item in common:
            groups.setdefault(columns[item], []).append(item)
        for column, ids in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            out.append(Paired(metric, column, a.loc[ids].to_numpy(), b.loc[ids].to_numpy(), same_scorer))
    return out


def compare(run_a: Path | Results, run_b: Path | Results, failed_as_worst: bool = False) -> pd.DataFrame:
    rows = []
    for pair in paired_samples(run_a, run_b, failed_as_worst):
        metric = pair.metric
        paired = stats.paired_difference(pair.a, pair.b, metric.spec.higher_is_better)
        rows.append({"metric": metric.key, "label": metric.spec.label, "column": pair.column, "n": paired.n,
                     "mean_a": paired.mean_a, "mean_b": paired.mean_b, "delta": paired.delta,
                     "ci95_low": paired.ci[0] if paired.ci else None,
                     "ci95_high": paired.ci[1] if paired.ci else None,
                     "verdict": paired.verdict if pair.same_scorer else f"{paired.verdict} (scorers differ)",
                     "higher_is_better": metric.spec.higher_is_better, "decimals": metric.spec.decimals,
                     "same_scorer": pair.same_scorer})
    return pd.DataFrame(rows)


def render_comparison(frame: pd.DataFrame, label_a: str, label_b: str, failed_as_worst: bool = False) -> str:
    lines = [f"# {label_b} vs {label_a} (paired bootstrap, 95 %)", "",
             "| Metric | Column | n | A | B | B - A [95 % CI] | Verdict |", "|---|---|---:|---:|---:|---:|---|"]
    for _, row in frame.iterrows():
        d = int(row["decimals"])
        ci = (f" [{row['ci95_low']:+.{d}f}, {row['ci95_high']:+.{d}f}]"
              if row["ci95_low"] is not None and not pd.isna(row["ci95_low"]) else "")
        arrow = "↑" if row["higher_is_better"] else "↓"
        lines.append(f"| {row['label']} {arrow} | {row['column']} | {row['n']} | {row['mean_a']:.{d}f} | "
                     f"{row['mean_b']:.{d}f} | {row['delta']:+.{d}f}{ci} | {row['verdict']} |")
    items = ("items both runs scored or failed, a failure counting at the metric's worst value (WER 100 %, "
             "similarity 0, MOS 1; metrics without one: items both scored)" if failed_as_worst
             else "items both runs scored")
    lines += ["", f"- A = {label_a}, B = {label_b}; {items}; {stats.RESAMPLES} resamples, seed "
                  f"{stats.SEED}. 'better'/'worse': the interval excludes 0 in that direction."]
    return "\n".join(lines) + "\n"


def write_comparison(frame: pd.DataFrame, label_a: str, label_b: str, stem: Path, failed_as_worst: bool = False) -> str:
    markdown = render_comparison(frame, label_a, label_b, failed_as_worst)
    atomic.write_text(stem.with_suffix(".md"), markdown)
    buf = io.StringIO()
    frame.drop(columns=["decimals"]).to_csv(buf, index=False, float_format="%.6g")
    atomic.write_text(stem.with_suffix(".csv"), buf.getvalue())
    return markdown


# ---------------------------------------------------------------- noise floor


def noise_floor(run_dirs: list[Path]) -> dict[str, Any]:
    """Per metric and column: each run's mean, their standard deviation (ddof 1) and range."""
    if len(run_dirs) < 2:
        raise ConfigError("a noise floor needs at least two runs of the same system and config")
    loaded = [load_run(d) for d in run_dirs]
    systems = {(r.system.name, r.benchmark_name) for r, _ in loaded}
    if len(systems) != 1:
        raise ConfigError(f"noise-floor runs must share system and benchmark, got {sorted(systems)}")
    metrics = loaded[0][0].per_item_metrics()
    floor: dict[str, Any] = {}
    for key, metric in sorted(metrics.items()):
        per_column: dict[str, list[float]] = {}
        for _, frame in loaded:
            values = _values(frame, metric)
            cols = frame.set_index("id").loc[values.index].apply(
                lambda row: table_column(row["subset"], row["language"]), axis=1) if len(values) else pd.Series(dtype=str)
            per_column.setdefault("all", []).append(float(values.mean()) if len(values) else float("nan"))
            for column, group in values.groupby(cols):
                per_column.setdefault(column, []).append(float(group.mean()))
        floor[key] = {column: {"means": means, "std": float(np.std(means, ddof=1)) if len(means) > 1 else None,
                               "range": float(max(means) - min(means))}
                      for column, means in sorted(per_column.items()) if len(means) == len(loaded)}
    first = loaded[0][0]
    return {"system": first.system.name, "benchmark": first.benchmark_name,
            "runs": [r.run_id for r, _ in loaded], "seeds": [r.seed for r, _ in loaded],
            "units": "table units (metric x scale)", "metrics": floor}


# ---------------------------------------------------------------- gates


@dataclass(frozen=True)
class GateResult:
    metric: str
    column: str
    allowed: float
    delta: float
    ci: tuple[float, float] | None
    failed: bool
    reason: str


def _allowance(gate: dict[str, Any], floor: dict[str, Any] | None, where: str) -> float:
    allowed = gate.get("max_regression")
    if isinstance(allowed, (int, float)):
        return float(allowed)
    if allowed == "noise_floor":
        if floor is None:
            raise ConfigError(f"{where}: max_regression: noise_floor needs noise_floor: <file> in the gate config")
        entry = floor["metrics"].get(gate["metric"], {}).get(gate.get("column", "all"))
        if entry is None or entry.get("std") is None:
            raise ConfigError(f"{where}: the noise floor has no spread for {gate['metric']} / {gate.get('column', 'all')}")
        return float(gate.get("multiplier", 2.0)) * entry["std"]
    raise ConfigError(f"{where}: max_regression must be a number (table units) or 'noise_floor'")


def gate(baseline: Path, candidate: Path, config: dict[str, Any]) -> list[GateResult]:
    gates = config.get("gates")
    if not gates:
        raise ConfigError("gate config: no gates (a list of {metric, column, max_regression})")
    floor = atomic.read_json(Path(config["noise_floor"]).expanduser()) if config.get("noise_floor") else None
    # On by default for gates: a candidate that fails the items it used to get right must lose
    # them in the paired means too, not just in the failure-rate line.
    failed_as_worst = bool(config.get("failed_as_worst", True))
    pairs = {(p.metric.key, p.column): p for p in paired_samples(baseline, candidate, failed_as_worst=failed_as_worst)}
    outcomes = []
    for i, spec in enumerate(gates):
        where = f"gates[{i}]"
        if "metric" not in spec:
            raise ConfigError(f"{where}: missing 'metric' (e.g. wer.wer)")
        column = str(spec.get("column", "all"))
        allowed = _allowance(spec, floor, where)
        pair = pairs.get((spec["metric"], column))
        if pair is None:
            raise ConfigError(f"{where}: both runs must score {spec['metric']} in column {column!r}")
        if not pair.same_scorer:
            raise ConfigError(f"{where}: {spec['metric']} was scored by different scorer versions in the two runs")
        paired = stats.paired_difference(pair.a, pair.b, pair.metric.spec.higher_is_better, margin=allowed)
        failed = paired.verdict == "worse"
        reason = (f"regressed by more than {allowed:.4g} with 95 % confidence" if failed else
                  f"within the allowed regression of {allowed:.4g}")
        if failed_as_worst and pair.metric.spec.worst is not None:
            reason += f"; failed items at {pair.metric.spec.worst * pair.metric.spec.scale:g}"

        outcomes.append(GateResult(spec["metric"], column, allowed, paired.delta, paired.ci, failed, reason))
    outcomes.append(_failure_rate_gate(baseline, candidate, float(config.get("failure_rate_margin", 0.0))))
    return outcomes


def failure_rate(frame: pd.DataFrame) -> float:
    """Percent of items without a usable output or score: synthesis failed, or a scorer failed
    on it (unsupported languages and n/a aside)."""
    considered = frame[frame["status"] != "unsupported"]
    if considered.empty:
        return 0.0
    bad = considered["status"] == "failed"
    for column in [c for c in considered.columns if c.endswith("_status") and c != "status"]:
        bad |= considered[column].isin(["failed"])
    return 100.0 * float(bad.mean())


def _failure_rate_gate(baseline: Path, candidate: Path, margin: float) -> GateResult:
    """Always checked: paired means skip failed items, so a candidate that fails its hardest
    items would otherwise look better."""
    before, after = (failure_rate(load_run(run)[1]) for run in (baseline, candidate))
    failed = after > before + margin + 1e-9
    reason = (f"failure rate rose from {before:.1f} % to {after:.1f} % (margin {margin:g} points)" if failed
              else f"failure rate {before:.1f} % -> {after:.1f} %, within the margin of {margin:g} points")
    return GateResult("failure rate (%)", "all", margin, after - before, None, failed, reason)


def render_gates(outcomes: list[GateResult]) -> str:
    lines = ["| Gate | Column | Change (B - A) [95 % CI] | Allowed | Result |", "|---|---|---:|---:|---|"]
    for g in outcomes:
        ci = f" [{g.ci[0]:+.4g}, {g.ci[1]:+.4g}]" if g.ci else ""
        lines.append(f"| {g.metric} | {g.column} | {g.delta:+.4g}{ci} | {g.allowed:.4g} | "
                     f"{'FAIL' if g.failed else 'pass'}: {g.reason} |")
    return "\n".join(lines) + "\n"
