"""The report's figures, drawn from stored results only (no model): each PNG is written with
the CSV of exactly the numbers it shows, so a figure can be checked or redrawn elsewhere.

- ``prosody_by_system``: mean TTSDS2 prosody factor per system and subset (report Fig. 5);
- ``dswed_by_system``: mean DS-WED per system (report Fig. 6), for runs with >= 2 generations;
- ``speaker_similarity_distribution``: each system's distribution of speaker similarity beside
  the ground-truth distribution (the "shape" comparison: a system can match the mean and still
  miss the spread).

- ``speaking_rate_distance``: per system, the distribution over items of the absolute
  difference between the Allosaurus phone rate of the output and of its source recording
  (report Fig. 7), for runs whose prosody factor includes ``allosaurus_rate``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ztts1_eval import atomic

log = logging.getLogger(__name__)


def _labels(results: list[dict[str, Any]]) -> list[str]:
    """System labels, with the run id added where two runs share one (as the tables do)."""
    plain = [r["system"].get("label") or r["system"]["name"] for r in results]
    return [f"{label} [{r['run_id']}]" if plain.count(label) > 1 else label for label, r in zip(plain, results)]


def _save(fig, frame: pd.DataFrame, path: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    with atomic.atomic_path(path.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic.atomic_path(path.with_suffix(".png")) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return [path.with_suffix(".png"), path.with_suffix(".csv")]


def prosody_frame(results: list[dict[str, Any]], key: str = "prosody.prosody") -> pd.DataFrame:
    rows = []
    for label, result in zip(_labels(results), results):
        for subset, cells in result["aggregates"]["by_subset"].items():
            cell = cells.get(key)
            if cell and cell.get("mean") is not None:
                rows.append({"system": label, "subset": subset, "prosody": cell["mean"],
                             "n": cell["n"], "benchmarks": "+".join(cell.get("averaged", []))})
    return pd.DataFrame(rows, columns=["system", "subset", "prosody", "n", "benchmarks"])


def plot_prosody(results: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def dswed_frame(results: list[dict[str, Any]], key: str = "diversity.dswed") -> pd.DataFrame:
    rows = []
    for label, result in zip(_labels(results), results):
        cell = result["aggregates"]["all"].get(key)
        if cell and cell.get("mean") is not None:
            rows.append({"system": label, "dswed": cell["mean"], "n": cell["n"],
                         "generations": result["scorers"].get("diversity", {}).get("generations")})
    return pd.DataFrame(rows, columns=["system", "dswed", "n", "generations"])


def plot_dswed(results: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = dswed_frame(results)
    if frame.empty:
        return []
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(frame), 3.2))
    ax.bar(frame["system"], frame["dswed"], color="tab:green")
    ax.set_ylabel("DS-WED (mean unit edit distance)")
    ax.set_title("Diversity between generations of the same item")
    ax.tick_params(axis="x", rotation=30)
    return _save(fig, frame, out_dir / "dswed_by_system")


def similarity_frame(run_dirs: dict[str, Path], column: str = "sim") -> pd.DataFrame:
    frames = []
    for label, run_dir in run_dirs.items():
        items = pd.read_parquet(run_dir / "items.parquet")
        if column not in items or f"{column}_status" not in items:
            continue
        ok = items[items[f"{column}_status"] == "ok"]
        frames.append(pd.DataFrame({"system": label, "id": ok["id"], "language": ok["language"],
                                    "sim": pd.to_numeric(ok[column])}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["system", "id", "language", "sim"])


def plot_similarity(results: list[dict[str, Any]], run_dirs: list[Path], out_dir: Path,
                    truth: str = "ground_truth") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels_all = _labels(results)
    by_label = dict(zip(labels_all, run_dirs))
    frame = similarity_frame(by_label)
    if frame.empty:
        return []
    truth_labels = [label for label, r in zip(labels_all, results) if r["system"]["name"] == truth]
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


def speaking_rate_frame(run_dirs: dict[str, Path]) -> pd.DataFrame:
    columns = ["system", "id", "language", "phone_rate", "phone_rate_ref", "difference", "distance"]
    frames = []
    for label, run_dir in run_dirs.items():
        items = pd.read_parquet(run_dir / "items.parquet")
        if not {"phone_rate", "phone_rate_ref", "prosody_status"} <= set(items.columns):
            continue
        ok = items[items["prosody_status"] == "ok"]
        rate, ref = pd.to_numeric(ok["phone_rate"]), pd.to_numeric(ok["phone_rate_ref"])
        frames.append(pd.DataFrame({"system": label, "id": ok["id"], "language": ok["language"],
                                    "phone_rate": rate, "phone_rate_ref": ref, "difference": rate - ref,
                                    "distance": (rate - ref).abs()}))
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def plot_speaking_rate(results: list[dict[str, Any]], run_dirs: list[Path], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = speaking_rate_frame(dict(zip(_labels(results), run_dirs)))
    if frame.empty:
        return []
    labels = sorted(set(frame["system"]))
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(labels), 3.2))
    ax.boxplot([frame.loc[frame["system"] == label, "distance"].to_numpy() for label in labels])
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right")
    ax.set_ylabel("|phone rate - source| (phones/s)")
    ax.set_title("Speaking-rate distance to the source recording (Allosaurus)")
    return _save(fig, frame, out_dir / "speaking_rate_distance")


def write_plots(results: list[dict[str, Any]], run_dirs: list[Path], out_dir: Path) -> list[Path]:
    """Every figure that has data; a figure that cannot be drawn is logged, never fatal (the
    tables are already written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, draw in (("prosody", lambda: plot_prosody(results, out_dir)),
                       ("dswed", lambda: plot_dswed(results, out_dir)),
                       ("similarity", lambda: plot_similarity(results, run_dirs, out_dir)),
                       ("speaking rate", lambda: plot_speaking_rate(results, run_dirs, out_dir))):
        try:
            written += draw()
        except Exception:  # noqa: BLE001 - a broken figure must not lose the report
            log.exception("could not draw the %s figure", name)
    return written
