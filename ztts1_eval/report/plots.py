"""The report's figures, drawn from stored results only (no model): each PNG is written with
the CSV of exactly the numbers it shows, so a figure can be checked or redrawn elsewhere.

- ``prosody_by_system``: mean TTSDS2 prosody factor per system and subset (report Fig. 5);
- ``dswed_by_system``: mean DS-WED per system (report Fig. 6), for runs with >= 2 generations;
- ``prosody_by_language``, ``dswed_by_language``: the same two per language;
- ``wer_vs_ground_truth``: each system's WER against the ground truth's, per language (the
  blog's plot): above the diagonal, less intelligible than the real recordings there;
- ``speaker_similarity_distribution``: each system's distribution of speaker similarity beside
  the ground-truth distribution (the "shape" comparison: a system can match the mean and still
  miss the spread).

- ``speaking_rate_distance``: per system, the distribution over items of the absolute
  difference between the Allosaurus phone rate of the output and of its source, the clone
  prompt (report Fig. 7; the target recording where the run set ``rate_reference: target``),
  for runs whose prosody factor includes ``allosaurus_rate``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ztts1_eval.core import atomic
from ztts1_eval.report import profile
from ztts1_eval.report.aggregate import slot_frame
from ztts1_eval.report.model import Results, SlotMetric, status_column, system_labels, value_column

log = logging.getLogger(__name__)


def _pyplot():
    """pyplot on the file-only backend (no display on servers and CI), imported when drawing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, frame: pd.DataFrame, path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    with atomic.atomic_path(path.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic.atomic_path(path.with_suffix(".png")) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    with plt.rc_context({"svg.hashsalt": "ztts1-eval"}), atomic.atomic_path(path.with_suffix(".svg")) as tmp:
        fig.savefig(tmp, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return [path.with_suffix(".png"), path.with_suffix(".svg"), path.with_suffix(".csv")]


def figure_metrics(result: Results, figure: str) -> list[SlotMetric]:
    """The run's metric a figure draws (profile.FIGURES: by field or aggregator, whatever the
    slot), the first in table order where several slots have it; empty when none has."""
    return result.find(**profile.FIGURES[figure])[:1]


def prosody_frame(results: list[Results]) -> pd.DataFrame:
    rows = []
    for label, result in zip(system_labels(results), results):
        for metric in figure_metrics(result, "prosody_by_system"):
            for subset, group in result.by_subset.items():
                cell = group.cells.get(metric.key)
                if cell and cell.mean is not None:
                    rows.append({"system": label, "subset": subset, "prosody": cell.mean,
                                 "n": cell.n, "benchmarks": "+".join(cell.details.get("averaged", []))})
    return pd.DataFrame(rows, columns=["system", "subset", "prosody", "n", "benchmarks"])


def plot_prosody(results: list[Results], out_dir: Path) -> list[Path]:
    plt = _pyplot()

    frame = prosody_frame(results)
    if frame.empty:
        return []
    table = frame.pivot(index="system", columns="subset", values="prosody")
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(table) * max(1, len(table.columns)) ** 0.5, 3.2))
    table.plot.bar(ax=ax, rot=30, width=0.8)
    ax.set_ylabel("TTSDS2 prosody (higher = closer to real)")
    ax.set_ylim(0, 100)
    ax.set_xlabel("")
    ax.set_title(f"Prosody factor ({', '.join(sorted(set(frame['benchmarks'])))})")
    ax.legend(title="subset", fontsize="small")
    return _save(fig, frame, out_dir / "prosody_by_system")


def dswed_frame(results: list[Results]) -> pd.DataFrame:
    rows = []
    for label, result in zip(system_labels(results), results):
        for metric in figure_metrics(result, "dswed_by_system"):
            cell = result.overall.cells.get(metric.key)
            if cell and cell.mean is not None:
                rows.append({"system": label, "dswed": cell.mean, "n": cell.n,
                             "generations": result.scorers[metric.scorer].generations})
    return pd.DataFrame(rows, columns=["system", "dswed", "n", "generations"])


def plot_dswed(results: list[Results], out_dir: Path) -> list[Path]:
    plt = _pyplot()

    frame = dswed_frame(results)
    if frame.empty:
        return []
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(frame), 3.2))
    ax.bar(frame["system"], frame["dswed"], color="tab:green")
    ax.set_ylabel("DS-WED (mean unit edit distance)")
    ax.set_title("Diversity between generations of the same item")
    ax.tick_params(axis="x", rotation=30)
    return _save(fig, frame, out_dir / "dswed_by_system")


def _ok_values(items: pd.DataFrame, metric: SlotMetric) -> pd.DataFrame:
    """The items a slot scored, with the metric's values as ``value`` (empty when not scored)."""
    column, status = value_column(metric.scorer, metric.spec.field), status_column(metric.scorer)
    if column not in items or status not in items:
        return items.iloc[0:0].assign(value=pd.Series(dtype=float))
    ok = items[items[status] == "ok"]
    return ok.assign(value=pd.to_numeric(ok[column], errors="coerce"))


def language_frame(results: list[Results], figure: str) -> pd.DataFrame:
    """The figure's metric per system and language (Figures 5 and 6 per language)."""
    rows = []
    for label, result in zip(system_labels(results), results):
        for metric in figure_metrics(result, figure):
            for language, group in sorted(result.by_language.items()):
                cell = group.cells.get(metric.key)
                if cell and cell.mean is not None:
                    rows.append({"system": label, "language": language, "value": cell.mean, "n": cell.n})
    return pd.DataFrame(rows, columns=["system", "language", "value", "n"])


def plot_by_language(results: list[Results], out_dir: Path) -> list[Path]:
    """``prosody_by_language`` and ``dswed_by_language``: grouped bars, languages in table order."""
    plt = _pyplot()
    written: list[Path] = []
    for figure, name, ylabel in (("prosody_by_system", "prosody_by_language", "TTSDS2 prosody (higher = closer to real)"),
                                 ("dswed_by_system", "dswed_by_language", "DS-WED (mean unit edit distance)")):
        frame = language_frame(results, figure)
        if frame.empty:
            continue
        table = frame.pivot(index="language", columns="system", values="value")
        table = table.loc[sorted(table.index, key=profile.column_sort_key)]
        fig, ax = plt.subplots(figsize=(1.5 + 0.9 * len(table) * max(1, len(table.columns)) ** 0.5, 3.2))
        table.plot.bar(ax=ax, rot=0, width=0.8)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("")
        ax.set_title(f"{ylabel.split(' (')[0]} per language")
        ax.legend(fontsize="small")
        written += _save(fig, frame, out_dir / name)
    return written


def similarity_frame(results: list[Results], items: dict[str, pd.DataFrame]) -> pd.DataFrame:
    frames = []
    for label, result in zip(system_labels(results), results):
        for metric in figure_metrics(result, "speaker_similarity_distribution"):
            ok = _ok_values(items[label], metric)
            frames.append(pd.DataFrame({"system": label, "id": ok["id"], "language": ok["language"], "sim": ok["value"]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["system", "id", "language", "sim"])


def plot_similarity(results: list[Results], items: dict[str, pd.DataFrame], out_dir: Path,
                    truth: str = "ground_truth") -> list[Path]:
    plt = _pyplot()

    frame = similarity_frame(results, items)
    if frame.empty:
        return []
    truth_labels = [label for label, r in zip(system_labels(results), results) if r.system.name == truth]
    labels = sorted(set(frame["system"]), key=lambda s: (s not in truth_labels, s))
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(labels), 3.2))
    data = [frame.loc[frame["system"] == label, "sim"].to_numpy() for label in labels]
    parts = ax.violinplot(data, showmedians=True)
    for body, label in zip(parts["bodies"], labels):
        body.set_alpha(0.5 if label not in truth_labels else 0.8)
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right")
    ax.set_ylabel("speaker similarity (100 x cosine)")
    ax.set_title("Speaker similarity: each system beside the ground-truth distribution")
    return _save(fig, frame, out_dir / "speaker_similarity_distribution")


def speaking_rate_frame(results: list[Results], items: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = ["system", "id", "language", "phone_rate", "source_rate", "source", "difference", "distance"]
    frames = []
    for label, result in zip(system_labels(results), results):
        for metric in figure_metrics(result, "speaking_rate_distance"):
            frames.append(rate_distance(label, slot_frame(items[label], metric.scorer), status_column(metric.scorer)))
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def rate_distance(label: str, items: pd.DataFrame, status: str) -> pd.DataFrame:
    """Per scored item, the output's phone rate against its source's (one slot's fields under
    their own names): the prompt's where it was measured, else the target recording's."""
    if not {"phone_rate", "phone_rate_ref", status} <= set(items.columns):
        return pd.DataFrame()
    ok = items[items[status] == "ok"]
    source = "prompt" if "phone_rate_prompt" in ok.columns else "target"
    rate = pd.to_numeric(ok["phone_rate"])
    ref = pd.to_numeric(ok["phone_rate_prompt" if source == "prompt" else "phone_rate_ref"])
    return pd.DataFrame({"system": label, "id": ok["id"], "language": ok["language"],
                         "phone_rate": rate, "source_rate": ref, "source": source,
                         "difference": rate - ref, "distance": (rate - ref).abs()})


def plot_speaking_rate(results: list[Results], items: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    plt = _pyplot()

    frame = speaking_rate_frame(results, items)
    if frame.empty:
        return []
    labels = sorted(set(frame["system"]))
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(labels), 3.2))
    ax.boxplot([frame.loc[frame["system"] == label, "distance"].to_numpy() for label in labels])
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right")
    sources = sorted(set(frame["source"]))
    source = {"prompt": "clone prompt", "target": "target recording"}.get(sources[0]) if len(sources) == 1 else \
        " / ".join(sources) + " (runs differ)"
    ax.set_ylabel("|phone rate - source| (phones/s)")
    ax.set_title(f"Speaking-rate distance to the source: {source} (Allosaurus)")
    return _save(fig, frame, out_dir / "speaking_rate_distance")


def metric_frame(results: list[Results]) -> pd.DataFrame:
    """Every per-item metric's mean and 95 % interval per system and table column."""
    rows = []
    for label, result in zip(system_labels(results), results):
        for key, slot_metric in result.per_item_metrics().items():
            metric = slot_metric.spec
            for column, group in sorted(result.by_column.items()):
                cell = group.cells.get(key)
                if not cell or cell.mean is None:
                    continue
                ci = cell.ci95 or (None, None)
                scale = metric.scale
                rows.append({"system": label, "metric": key, "label": metric.label, "column": column,
                             "mean": cell.mean * scale, "ci95_low": ci[0] * scale if ci[0] is not None else None,
                             "ci95_high": ci[1] * scale if ci[1] is not None else None, "n": cell.n,
                             "higher_is_better": metric.higher_is_better})
    return pd.DataFrame(rows, columns=["system", "metric", "label", "column", "mean", "ci95_low", "ci95_high", "n",
                                       "higher_is_better"])


def plot_metric_bars(results: list[Results], out_dir: Path) -> list[Path]:
    """Per metric: bars per table column (language) and system, with 95 % bootstrap error bars."""
    plt = _pyplot()
    import numpy as np

    frame = metric_frame(results)
    written: list[Path] = []
    for key, data in frame.groupby("metric", sort=True):
        columns = sorted(set(data["column"]), key=profile.column_sort_key)
        systems = sorted(set(data["system"]))
        width = 0.8 / max(1, len(systems))
        fig, ax = plt.subplots(figsize=(2.0 + 0.6 * len(columns) * max(1, len(systems)) ** 0.5, 3.2))
        for k, system in enumerate(systems):
            part = data[data["system"] == system].set_index("column").reindex(columns)
            low = (part["mean"] - part["ci95_low"]).fillna(0).clip(lower=0)
            high = (part["ci95_high"] - part["mean"]).fillna(0).clip(lower=0)
            ax.bar(np.arange(len(columns)) + k * width, part["mean"], width, label=system,
                   yerr=[low.to_numpy(), high.to_numpy()], capsize=2)
        ax.set_xticks(np.arange(len(columns)) + width * (len(systems) - 1) / 2, columns)
        label = data["label"].iloc[0]
        ax.set_ylabel(f"{label} ({'higher' if data['higher_is_better'].iloc[0] else 'lower'} is better)")
        ax.set_title(f"{label} per language, 95 % bootstrap intervals")
        ax.legend(fontsize="small")
        written += _save(fig, data, out_dir / f"bars_{key.replace('.', '_')}")
    return written


def wer_vs_truth_frame(results: list[Results], truth: str = "ground_truth") -> pd.DataFrame:
    """Per system and table column (language / hard subset): its WER beside the ground truth's
    WER in the same column (both in table units), for every run that has a ground-truth run."""
    columns = ["system", "column", "ground_truth_wer", "wer"]
    labels = system_labels(results)
    truths = [r for r in results if r.system.name == truth]
    rows = []
    for reference in truths:
        [ref_metric] = figure_metrics(reference, "wer_vs_ground_truth") or [None]
        if ref_metric is None:
            continue
        for label, result in zip(labels, results):
            [metric] = figure_metrics(result, "wer_vs_ground_truth") or [None]
            if result is reference or metric is None:
                continue
            for column, group in sorted(result.by_column.items()):
                ours, theirs = group.cells.get(metric.key), reference.by_column.get(column)
                theirs = theirs.cells.get(ref_metric.key) if theirs else None
                if ours and theirs and ours.mean is not None and theirs.mean is not None:
                    rows.append({"system": label, "column": column, "ground_truth_wer": theirs.mean * ref_metric.spec.scale,
                                 "wer": ours.mean * metric.spec.scale})
    return pd.DataFrame(rows, columns=columns)


def plot_wer_vs_truth(results: list[Results], out_dir: Path) -> list[Path]:
    """Each system's WER against the ground truth's, per language: above the diagonal, the system
    is less intelligible than the real recordings in that language."""
    plt = _pyplot()

    frame = wer_vs_truth_frame(results)
    if frame.empty:
        return []
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for system, part in frame.groupby("system", sort=True):
        ax.scatter(part["ground_truth_wer"], part["wer"], label=system)
        for _, row in part.iterrows():
            ax.annotate(row["column"], (row["ground_truth_wer"], row["wer"]), fontsize="x-small")
    top = float(max(frame["ground_truth_wer"].max(), frame["wer"].max())) * 1.05 or 1.0
    ax.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("ground-truth WER (%)")
    ax.set_ylabel("system WER (%)")
    ax.set_title("WER per language against the real recordings")
    ax.legend(fontsize="small")
    return _save(fig, frame, out_dir / "wer_vs_ground_truth")


def plot_radar(results: list[Results], out_dir: Path) -> list[Path]:
    """A summary per system over every metric's overall value, each axis scaled so that the
    outer edge is the best system on that metric (lower-is-better metrics inverted)."""
    plt = _pyplot()
    import numpy as np

    rows = []
    for label, result in zip(system_labels(results), results):
        for _, slot_metric in result.metrics():
            cell, metric = result.overall.cells.get(slot_metric.key), slot_metric.spec
            if cell and cell.mean is not None:
                rows.append({"system": label, "metric": metric.label, "value": cell.mean * metric.scale,
                             "higher_is_better": metric.higher_is_better})
    frame = pd.DataFrame(rows, columns=["system", "metric", "value", "higher_is_better", "relative"])
    metrics = sorted(set(frame["metric"]))
    if len(metrics) < 3 or frame.empty:
        return []
    for metric in metrics:
        part = frame["metric"] == metric
        values = frame.loc[part, "value"]
        higher = bool(frame.loc[part, "higher_is_better"].iloc[0])
        best, worst = (values.max(), values.min()) if higher else (values.min(), values.max())
        span = abs(best - worst)
        frame.loc[part, "relative"] = 1.0 if span == 0 else 1.0 - (abs(best - values) / span) * 0.8
    angles = np.linspace(0, 2 * np.pi, len(metrics), endpoint=False).tolist()
    fig, ax = plt.subplots(figsize=(4.5, 4.5), subplot_kw={"polar": True})
    for system, part in frame.groupby("system", sort=True):
        values = part.set_index("metric").reindex(metrics)["relative"].fillna(0).astype(float).tolist()
        ax.plot(angles + angles[:1], values + values[:1], label=system)
        ax.fill(angles + angles[:1], values + values[:1], alpha=0.1)
    ax.set_xticks(angles, metrics, fontsize="small")
    ax.set_yticklabels([])
    ax.set_title("Summary per system (outer = best on that metric)")
    ax.legend(fontsize="x-small", loc="lower right", bbox_to_anchor=(1.3, -0.1))
    return _save(fig, frame, out_dir / "summary_radar")


def plot_ecdf(results: list[Results], items: dict[str, pd.DataFrame], out_dir: Path,
              truth: str = "ground_truth") -> list[Path]:
    """Per metric, each system's empirical CDF of per-item scores beside ground truth's."""
    plt = _pyplot()
    import numpy as np

    written: list[Path] = []
    labels = system_labels(results)
    metrics: dict[str, SlotMetric] = {}
    for result in results:
        metrics.update(result.per_item_metrics())
    truth_labels = {label for label, r in zip(labels, results) if r.system.name == truth}
    for key, slot_metric in sorted(metrics.items()):
        metric = slot_metric.spec
        rows = []
        for label, frame in items.items():
            ok = _ok_values(frame, slot_metric).dropna(subset=["value"])
            rows += [{"system": label, "id": i, "value": v * metric.scale} for i, v in zip(ok["id"], ok["value"])]
        data = pd.DataFrame(rows, columns=["system", "id", "value"])
        if data.empty:
            continue
        fig, ax = plt.subplots(figsize=(4.8, 3.2))
        for system, part in data.groupby("system", sort=True):
            x = np.sort(part["value"].to_numpy())
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=system,
                    linewidth=2.2 if system in truth_labels else 1.2, color="black" if system in truth_labels else None)
        ax.set_xlabel(metric.label)
        ax.set_ylabel("fraction of items <= x")
        ax.set_title(f"{metric.label}: per-item distribution vs ground truth")
        ax.legend(fontsize="small")
        written += _save(fig, data, out_dir / f"ecdf_{slot_metric.scorer}_{metric.field}")
    return written


def write_plots(results: list[Results], out_dir: Path) -> list[Path]:
    """Every figure that has data; a figure that cannot be drawn is logged, never fatal (the
    tables are already written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    items = {label: result.items() for label, result in zip(system_labels(results), results)}
    for name, draw in (("prosody", lambda: plot_prosody(results, out_dir)),
                       ("dswed", lambda: plot_dswed(results, out_dir)),
                       ("per language", lambda: plot_by_language(results, out_dir)),
                       ("similarity", lambda: plot_similarity(results, items, out_dir)),
                       ("wer vs ground truth", lambda: plot_wer_vs_truth(results, out_dir)),
                       ("speaking rate", lambda: plot_speaking_rate(results, items, out_dir)),
                       ("metric bars", lambda: plot_metric_bars(results, out_dir)),
                       ("radar", lambda: plot_radar(results, out_dir)),
                       ("ecdf", lambda: plot_ecdf(results, items, out_dir))):
        try:
            written += draw()
        except Exception:  # noqa: BLE001 - a broken figure must not lose the report
            log.exception("could not draw the %s figure", name)
    return written
