"""The typed results contract: what finalize stores (``results.json``, ``items.parquet``) as
objects, read through :func:`load_results`. Tables, figures, the listening page and comparisons
read runs only through it (as inspect_ai's ``EvalLog``), so the JSON layout is spelled in one
place, and a metric is found by what it is (its field, its aggregator), never by the slot name a
config chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from ztts1_eval.core import atomic, layout
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.scorers.base import Metric

# 2: items.parquet value columns are prefixed by scorer slot (value_column)
RESULTS_SCHEMA_VERSION = 2

# items.parquet columns every run has, typed (a column that is empty in one run keeps its type).
ITEM_SCHEMA = pa.schema([
    ("id", pa.string()), ("subset", pa.string()), ("language", pa.string()), ("speaker", pa.string()),
    ("target_text", pa.string()), ("prompt_wav", pa.string()), ("gt_wav", pa.string()),
    ("status", pa.string()), ("failure_reason", pa.string()), ("output_wav", pa.string()),
    ("output_sha256", pa.string()), ("sample_rate", pa.int64()), ("duration_s", pa.float64()),
    *[(f"{role}_flags", pa.string()) for role in ("prompt", "gt", "output")],
    *[(f"{role}_{name}", pa.float64()) for role in ("prompt", "gt", "output")
      for name in ("peak_dbfs", "rms_dbfs", "speech_s")],
    ("latency_s", pa.float64()), ("rtf", pa.float64()), ("seed", pa.int64()), ("ttfb_s", pa.float64()),
    ("cost", pa.float64()),
])


def value_column(scorer: str, field_name: str) -> str:
    """The items.parquet column of a scorer slot's value: ``<slot>.<field>``, so two scorers that
    name a value alike (two WER stacks' ``hypothesis``) cannot collide."""
    return f"{scorer}.{field_name}"


def status_column(scorer: str) -> str:
    return f"{scorer}_status"


def reason_column(scorer: str) -> str:
    return f"{scorer}_reason"


def items_schema(frame: pd.DataFrame) -> pa.Schema:
    """:data:`ITEM_SCHEMA`, then per scorer slot its status and reason (strings) and its values
    (int64 where every value is an integer, float64 where every value is a number, else what
    pyarrow infers; a column without values is float64)."""
    schema = list(ITEM_SCHEMA)
    for column in frame.columns:
        if column in ITEM_SCHEMA.names:
            continue
        if column.endswith(("_status", "_reason")) and "." not in column:
            schema.append(pa.field(column, pa.string()))
            continue
        kinds = {_kind(v) for v in frame[column].dropna()}
        if kinds <= {"int"} and kinds:
            schema.append(pa.field(column, pa.int64()))
        elif kinds <= {"int", "float"}:
            schema.append(pa.field(column, pa.float64()))
        else:
            schema.append(pa.Table.from_pandas(frame[[column]], preserve_index=False).schema.field(column))
    return pa.schema(schema)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "other"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    return "other"


def write_items(frame: pd.DataFrame, path: Path) -> None:
    """``items.parquet`` with :func:`items_schema` (a missing item column is an error)."""
    missing = [name for name in ITEM_SCHEMA.names if name not in frame.columns]
    if missing:
        raise ValueError(f"items frame lacks the columns {missing}")
    schema = items_schema(frame)
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    with atomic.atomic_path(path) as tmp:
        import pyarrow.parquet as pq

        pq.write_table(table, tmp)


def read_items(run_dir: Path) -> pd.DataFrame:
    """A run's items.parquet; raises when it lacks the columns of :data:`ITEM_SCHEMA`."""
    path = layout.items_file(run_dir)
    frame = pd.read_parquet(path)
    missing = [name for name in ITEM_SCHEMA.names if name not in frame.columns]
    if missing:
        raise ConfigError(f"{path} lacks the columns {missing} (written by an older version?); "
                          f"run `ztts1-eval finalize {run_dir} --force` to rewrite it")
    return frame


@dataclass(frozen=True)
class Cell:
    """One metric over one group of items (see report.aggregate): counts always, values where scored."""

    n: int = 0
    n_items: int = 0
    n_failed: int = 0
    n_not_applicable: int = 0
    n_unsupported: int = 0
    n_pending: int = 0
    not_applicable_reasons: tuple[str, ...] = ()
    mean: float | None = None
    ci95: tuple[float, float] | None = None
    # failed_as_worst: the mean over all items with failures at the metric's worst value
    worst: float | None = None
    n_worst: int = 0
    mean_all: float | None = None
    ci95_all: tuple[float, float] | None = None
    # error rates: summed edit operations over summed reference units
    corpus: float | None = None
    corpus_ci95: tuple[float, float] | None = None
    n_over_50pct: int | None = None
    # what a distribution aggregator adds (benchmarks averaged, skipped features, distances)
    details: dict[str, Any] = field(default_factory=dict)

    AGGREGATIONS = {"mean": "ci95", "mean_all": "ci95_all", "corpus": "corpus_ci95"}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Cell:
        names = {f.name for f in fields(cls)} - {"details"}
        kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in record.items() if k in names}
        return cls(**kwargs, details={k: v for k, v in record.items() if k not in names})

    def value(self, aggregation: str) -> float | None:
        return getattr(self, aggregation)

    def interval(self, aggregation: str) -> tuple[float, float] | None:
        return getattr(self, self.AGGREGATIONS[aggregation])


@dataclass(frozen=True)
class Group:
    """The cells of one group of items (a language, a subset, a table column, all)."""

    n: int
    status: dict[str, int]
    cells: dict[str, Cell]  # "<slot>.<field>" -> cell

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Group:
        items = record.get("_items", {"n": 0, "status": {}})
        return cls(int(items["n"]), dict(items["status"]),
                   {key: Cell.from_record(cell) for key, cell in record.items() if key != "_items"})


@dataclass(frozen=True)
class SlotMetric:
    """A metric as one scorer slot of a stored run declared it."""

    scorer: str  # the slot: scores/<scorer>/, <scorer>_status, <scorer>.<field>
    spec: Metric  # the scorer's own declaration (scorers.base.Metric)
    identity_hash: str  # which version of the scorer computed it

    @property
    def key(self) -> str:
        return value_column(self.scorer, self.spec.field)


@dataclass(frozen=True)
class ScorerRecord:
    """A scorer slot as ``scores/<slot>/_scorer.json`` described it."""

    slot: str
    type: str
    identity: dict[str, Any]
    identity_hash: str
    batch_size: int
    sample_rate: int
    metrics: tuple[Metric, ...]
    languages: tuple[str, ...] | None
    unsupported_reason: str
    generations: int | None
    record: dict[str, Any]  # the whole description (noise features for the distribution aggregator)

    @classmethod
    def from_record(cls, slot: str, record: dict[str, Any]) -> ScorerRecord:
        languages = record.get("languages")
        return cls(slot, record.get("type", ""), record.get("identity", {}), record["identity_hash"],
                   record.get("batch_size", 0), record.get("sample_rate", 0),
                   tuple(Metric.from_record(m) for m in record.get("metrics", [])),
                   tuple(languages) if languages is not None else None,
                   record.get("unsupported_reason", ""), record.get("generations"), record)

    def slot_metrics(self) -> list[SlotMetric]:
        return [SlotMetric(self.slot, metric, self.identity_hash) for metric in self.metrics]


@dataclass(frozen=True)
class SystemRecord:
    """The system of a run: its config (name, label, section...) and what it said of itself."""

    name: str
    label: str
    section: str
    published_as: str | None
    describe: dict[str, Any]
    config: dict[str, Any]

    @property
    def clones(self) -> bool:
        return bool(self.describe.get("capabilities", {}).get("clones_from_audio", True))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SystemRecord:
        return cls(record["name"], record.get("label") or record["name"], record.get("section", ""),
                   record.get("published_as"), record.get("describe") or {},
                   {k: v for k, v in record.items() if k != "describe"})


@dataclass(frozen=True)
class Results:
    """One finalized run."""

    run_dir: Path | None
    schema_version: int
    run_id: str
    complete: bool
    benchmark: dict[str, Any]
    system: SystemRecord
    scorers: dict[str, ScorerRecord]  # in the config's order (the table's row order)
    counts: dict[str, int]
    flagged: dict[str, int]
    cost_estimate: dict[str, Any] | None
    overall: Group
    by_language: dict[str, Group]
    by_subset: dict[str, Group]
    by_column: dict[str, Group]  # the paper's table columns (report.aggregate.table_column)
    seed: int
    generations: int
    failed_as_worst: bool
    speech_check: dict[str, Any] | None
    provenance: dict[str, Any]
    record: dict[str, Any]  # results.json as stored
    # items.parquet once read (tables, figures, speed table, page and comparisons share it)
    _items: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: dict[str, Any], run_dir: Path | None = None) -> Results:
        agg = record["aggregates"]
        groups = lambda key: {name: Group.from_record(g) for name, g in (agg.get(key) or {}).items()}  # noqa: E731
        return cls(run_dir, record["schema_version"], record["run_id"], bool(record["complete"]),
                   record["benchmark"], SystemRecord.from_record(record["system"]),
                   {slot: ScorerRecord.from_record(slot, meta) for slot, meta in record["scorers"].items()},
                   record.get("counts", {}), record.get("flagged") or {}, record.get("cost_estimate"),
                   Group.from_record(agg["all"]), groups("by_language"), groups("by_subset"),
                   groups("by_column") or groups("by_language"), record.get("seed", 0),
                   record.get("generations", 1), bool(record.get("failed_as_worst", False)),
                   record.get("speech_check"), record.get("provenance", {}), record)

    @property
    def label(self) -> str:
        return self.system.label

    @property
    def benchmark_name(self) -> str:
        return self.benchmark["name"]

    def group(self, column: str) -> Group | None:
        """A table column's group, or every item's for ``all``."""
        return self.overall if column == "all" else self.by_column.get(column)

    def metrics(self) -> Iterator[tuple[ScorerRecord, SlotMetric]]:
        """Every metric of every slot, in table order."""
        for scorer in self.scorers.values():
            for metric in scorer.slot_metrics():
                yield scorer, metric

    def per_item_metrics(self) -> dict[str, SlotMetric]:
        """Metrics with per-item values (a distribution-level distance has none to pair)."""
        return {m.key: m for _, m in self.metrics() if not m.spec.distribution}

    def find(self, field: str | None = None, distribution: str | None = None) -> list[SlotMetric]:  # noqa: F402
        """The metrics with this field name or this distribution aggregator, whatever their slot."""
        return [m for _, m in self.metrics()
                if (field is None or m.spec.field == field)
                and (distribution is None or m.spec.distribution == distribution)]

    def items(self) -> pd.DataFrame:
        """The run's items.parquet, read on first use (callers do not modify it)."""
        if self.run_dir is None:
            raise ValueError(f"run {self.run_id}: results without a run directory have no items")
        if "frame" not in self._items:
            self._items["frame"] = read_items(self.run_dir)
        return self._items["frame"]


def load_record(run_dir: Path) -> dict[str, Any]:
    """``results.json`` as stored. JSON is written with sorted keys, so the scorers' order (the
    config's, which orders table rows) is restored from run.json's list."""
    final = atomic.read_json(layout.results_file(run_dir))
    order = atomic.read_json(layout.run_file(run_dir))["scorers"]
    final["scorers"] = {name: final["scorers"][name] for name in [*order, *final["scorers"]] if name in final["scorers"]}
    return final


def load_results(run_dir: Path) -> Results:
    """A finalized run, read only (comparing or reporting never rewrites a run; `ztts1-eval merge
    RUN_DIR` refreshes one whose records changed). Raises ConfigError with what to run when the
    directory is not a run, is not finalized, or was finalized by an older results schema."""
    run_dir = Path(run_dir)
    if not layout.run_file(run_dir).is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no {layout.RUN_FILE})")
    if not layout.results_file(run_dir).is_file() or not layout.items_file(run_dir).is_file():
        raise ConfigError(f"{run_dir} has no results yet (unfinished shards?); run `ztts1-eval finalize {run_dir}` "
                          "(--force for partial results)")
    record = load_record(run_dir)
    if record.get("schema_version") != RESULTS_SCHEMA_VERSION:
        raise ConfigError(f"{run_dir} was finalized by an older version (results schema {record.get('schema_version')}, "
                          f"now {RESULTS_SCHEMA_VERSION}); run `ztts1-eval finalize {run_dir}` to migrate it")
    return Results.from_record(record, run_dir)


def system_labels(results: list[Results]) -> list[str]:
    """Each run's label, with its run id added where two runs share one (tables, figures and
    the listening page name systems alike)."""
    plain = [r.label for r in results]
    return [f"{label} [{r.run_id}]" if plain.count(label) > 1 else label for label, r in zip(plain, results)]
