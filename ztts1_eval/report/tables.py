"""Paper-style tables (rows = system x metric, columns = the paper's columns: languages, with the
hard subsets as their own columns, as in Tables III and IV of the ZONOS2 report), rendered from
stored ``results.json`` aggregates only: Markdown, LaTeX (booktabs), CSV (wide) and a long CSV
with every cell's interval and counts.

Rows are grouped like the paper (Reference, Baselines, Open-source, Closed-source). The best
value of each column among the evaluated systems (not the reference) is marked. Where the
report published a row for the same benchmark, system and metric, it is printed under ours as
``published``, with the CSV's own strings, and ``table_vs_paper`` gives ours minus published
wherever our scorer is the one the paper used.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ztts1_eval.core import atomic
from ztts1_eval.report import profile, published
from ztts1_eval.report.model import Cell, Group, Results, system_labels
from ztts1_eval.pipeline.applicability import PROMPT_IS_TARGET


@dataclass
class Row:
    section: str
    system: str
    metric: str
    field: str  # "<scorer>.<metric field>"
    aggregation: str  # "mean" | "corpus" | "published"
    higher_is_better: bool
    decimals: int
    scorer_type: str = ""
    values: dict[str, float | None] = field(default_factory=dict)
    cis: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # column -> (n scored, n failed)
    preset: dict[str, float] = field(default_factory=dict)  # a preset voice's similarity: not shown, not ranked
    published_table: str = ""  # published rows: the report's table they come from

    @property
    def is_published(self) -> bool:
        return self.aggregation == "published"


def _columns(results: list[Results]) -> list[str]:
    cols = {col for r in results for col in r.by_column}
    return sorted(cols, key=profile.column_sort_key) + ["all"]


def _cell(result: Results, column: str, key: str) -> tuple[Cell | None, Group | None]:
    group = result.group(column)
    if group is None:
        return None, None
    return group.cells.get(key), group


def _status_text(cell: Cell, items: Group) -> str | None:
    """Why a cell has no value, or None when it has one."""
    if cell.n == 0:
        if cell.n_not_applicable == cell.n_items:
            # "–" as Table III prints the Clean set's ground-truth similarity (prompt = target)
            return "–" if cell.not_applicable_reasons == (PROMPT_IS_TARGET,) else "n/a"
        for word in ("unsupported", "failed", "pending"):
            if items.status.get(word, 0) == items.n:
                return word
        return "no score"
    return None


PRESET_VOICE = "n/a, preset voice"


def _text(value: float | None, ci: tuple[float, float] | None, cell: Cell | None,
          items: Group | None, decimals: int) -> str:
    if cell is None or items is None:
        return ""
    status = _status_text(cell, items)
    if status is not None:
        return status
    if value is None:  # a distribution metric over too few items, or without noise features
        reasons = set((cell.details.get("skipped") or {}).values())
        return "too few items" if any(r.startswith("fewer than") for r in reasons) else "no score"
    text = f"{value:.{decimals}f}"
    if ci is not None:
        text += f" ±{(ci[1] - ci[0]) / 2:.{decimals}f}"
    notes = []
    if cell.n_failed:
        notes.append(f"{cell.n_failed}✗")
    if cell.n_pending:
        notes.append(f"{cell.n_pending} pending")
    if cell.n_unsupported:
        notes.append(f"{cell.n_unsupported} unsup.")
    return text + (f" ({', '.join(notes)})" if notes else "")


def ordered(results: list[Results]) -> list[Results]:
    """Runs in table order: the paper's sections, then label, then run id."""
    return sorted(results, key=lambda r: (profile.section_rank(r.system.section), r.label.lower(), r.run_id))


def _published_row(result: Results, ours: Row, metric_field: str, columns: list[str]) -> Row | None:
    table = result.benchmark.get("published_table")
    if not table or ours.aggregation != "mean":
        return None
    found = published.lookup(table, result.system.published_as or result.label, metric_field, result.system.clones,
                             result.benchmark.get("published_columns"), result.benchmark.get("published_section"))
    if found is None:
        return None
    metric_name, values = found
    row = Row(ours.section, f"↳ published ({table})", metric_name, ours.field, "published", ours.higher_is_better,
              ours.decimals, published_table=table)
    for column in columns:
        raw = values.get(column)
        row.values[column] = float(raw) if raw not in (None, "") else None
        row.texts[column] = raw or ""
        row.cis[column] = None
    return row


def build_rows(results: list[Results], columns: list[str]) -> list[Row]:
    rows: list[Row] = []
    runs = ordered(results)
    for result, label in zip(runs, system_labels(runs)):
        clones = result.system.clones
        for scorer, slot_metric in result.metrics():
            metric, key = slot_metric.spec, slot_metric.key
            arrow = "↑" if metric.higher_is_better else "↓"
            name = metric.label + ("*" if metric.field == "sim" and not clones else "")
            variants = [("mean", f"{name} {arrow}")]
            if result.failed_as_worst and metric.worst is not None:
                # both means, labelled: over scored items, and over all items with failures at worst
                variants = [("mean", f"{name} {arrow} (scored)"),
                            ("mean_all", f"{name} {arrow} (all, failed = {metric.worst * metric.scale:g})")]
            if metric.corpus_numerator:
                variants.append(("corpus", f"{name} corpus {arrow}"))
            for aggregation, metric_label in variants:
                row = Row(result.system.section, label, metric_label, key, aggregation,
                          metric.higher_is_better, metric.decimals, scorer.type)
                for column in columns:
                    cell, items = _cell(result, column, key)
                    raw = cell.value(aggregation) if cell else None
                    value = raw * metric.scale if raw is not None else None
                    ci = cell.interval(aggregation) if cell else None
                    ci = (ci[0] * metric.scale, ci[1] * metric.scale) if ci else None
                    row.values[column], row.cis[column] = value, ci
                    row.texts[column] = _text(value, ci, cell, items, metric.decimals)
                    if metric.field == "sim" and not clones and value is not None:
                        # a preset voice: not a cloning score, so neither shown nor ranked as one
                        # (the measured value stays in results.json and items.parquet)
                        row.preset[column] = value  # only set beside a published preset similarity
                        row.values[column], row.cis[column] = None, None
                        row.texts[column] = PRESET_VOICE
                    row.counts[column] = (cell.n, cell.n_failed) if cell else (0, 0)
                rows.append(row)
                paper = _published_row(result, row, metric.field, columns)
                if paper is not None:
                    rows.append(paper)
        rows.append(_failed_row(result, label, columns))
    return rows


FAILED_LABEL = "Failed % ↓"


def _failed_row(result: Results, label: str, columns: list[str]) -> Row:
    """Share of the column's items whose synthesis failed (unsupported languages aside): means
    are over scored items only, so a system that fails its hardest items must show it here."""
    row = Row(result.system.section, label, FAILED_LABEL, "generation.failed", "mean", False, 1)
    for column in columns:
        items = result.group(column)
        considered = items.n - items.status.get("unsupported", 0) if items else 0
        failed = items.status.get("failed", 0) if items else 0
        value = 100.0 * failed / considered if considered else None
        row.values[column], row.cis[column] = value, None
        row.texts[column] = "" if value is None else f"{value:.1f}" + (f" ({failed}/{considered})" if failed else "")
        row.counts[column] = (considered, failed)
    return row


def best_cells(rows: list[Row], columns: list[str]) -> set[tuple[int, str]]:
    """(row index, column) of the best value per metric and column among evaluated systems
    (the Reference section and published rows excluded); ties are all marked."""
    best: set[tuple[int, str]] = set()
    by_metric: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(rows):
        if not row.is_published and row.section != "Reference":
            by_metric.setdefault((row.metric.rstrip("*↑↓ "), row.aggregation), []).append(i)
    for indices in by_metric.values():
        if len(indices) < 2:
            continue
        for column in columns:
            scored = [(rows[i].values[column], i) for i in indices if rows[i].values.get(column) is not None]
            if not scored:
                continue
            target = max(v for v, _ in scored) if rows[indices[0]].higher_is_better else min(v for v, _ in scored)
            best.update((i, column) for v, i in scored if v == target)
    return best


def footnotes(results: list[Results]) -> list[str]:
    notes = [
        "Values are per-item means over scored items, so 'Failed %' (items whose synthesis failed, unsupported "
        "languages aside) stands beside them for every system; 'corpus' rows sum edit operations over items "
        "(errors / reference words or characters). ± = half-width of the 95 % percentile bootstrap interval "
        "over items (1000 resamples, seed 0); the prosody factor is a distribution distance and has none. "
        "Bold = best evaluated system in the column (reference excluded). '(k✗)' = k items without a score "
        "(generation or scoring failed), 'k unsup.' = k items in a language the system does not speak; "
        "'n/a' = the scorer does not cover this language; 'unsupported' = the system does not speak it. "
        "'all' pools every scored item of the run, so it is comparable across systems only where their "
        "coverage matches. Per-cell item and failure counts are in table_long.csv.",
        f"Spk. sim.* = the system cannot clone: '{PRESET_VOICE}' (its similarity to the prompt speaker is "
        "measured but not a cloning score; it is in results.json and items.parquet, not ranked here). "
        "Published rows keep the report's numbers.",
        "'published' rows are the ZONOS2 report's numbers (ztts1-published.csv), shown beside ours and never "
        "mixed into our aggregates; they were computed with the paper stack (Qwen3-ASR, ReDimNet, UTMOS).",
    ]
    seen = set()
    for result in results:
        for name, scorer in result.scorers.items():
            ident = scorer.identity
            line = f"`{name}`: {ident.get('model')}"
            if ident.get("revision"):
                line += f"@{ident['revision']}"
            line += f" ({ident.get('package', '')}, identity {scorer.identity_hash}"
            if "normalizer" in ident:
                line += f", normalizer {ident['normalizer']['name']} v{ident['normalizer']['version']}"
            line += f", batch {scorer.batch_size}, {scorer.sample_rate} Hz)"
            if ident.get("settings_note"):  # the scorer's deliberate settings, e.g. a forced ASR language
                line += f"; {ident['settings_note']}"
            if scorer.languages is not None:
                line += f"; n/a: {scorer.unsupported_reason}"
            if line not in seen:
                seen.add(line)
                notes.append(line)
    for result in results:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        if any(result.flagged.values()):  # decodable but suspicious audio: scored, and said so
            counts += "; flagged audio (items.parquet *_flags): " + ", ".join(
                f"{FLAG_ROLES[role]} {n}" for role, n in result.flagged.items() if n)
        notes.append(f"{result.label} (run {result.run_id}): {counts}")
    return notes


FLAG_ROLES = {"prompt": "prompt", "gt": "ground truth", "output": "output"}


@dataclass
class Table:
    """The rows of one table, built once and rendered in every format."""

    results: list[Results]
    columns: list[str]
    rows: list[Row]
    best: set[tuple[int, str]]


def build_table(results: list[Results]) -> Table:
    columns = _columns(results)
    rows = build_rows(results, columns)
    return Table(results, columns, rows, best_cells(rows, columns))


def render_markdown(table: Table) -> str:
    results, columns, rows, best = table.results, table.columns, table.rows, table.best
    benchmarks = sorted({r.benchmark_name for r in results})
    lines = [f"# {', '.join(benchmarks)}: results", "",
             "| System | Metric | " + " | ".join(columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    previous = None
    for i, row in enumerate(rows):
        system = row.system if row.system != previous else ""
        previous = row.system if not row.is_published else previous
        texts = [f"**{row.texts[c]}**" if (i, c) in best else row.texts[c] for c in columns]
        lines.append(f"| {system} | {row.metric} | " + " | ".join(texts) + " |")
    lines += [""] + [f"- {note}" for note in footnotes(results)]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("±", r"$\pm$"), ("↑", r"$\uparrow$"), ("↓", r"$\downarrow$"), ("↳", r"$\hookrightarrow$"),
                 ("✗", r"$\times$")):
        text = text.replace(a, b)
    return text


def render_latex(table: Table) -> str:
    """A booktabs table body (\\usepackage{booktabs}); sections separated by \\midrule."""
    columns, rows, best = table.columns, table.rows, table.best
    lines = [r"\begin{tabular}{ll" + "r" * len(columns) + "}", r"\toprule",
             "System & Metric & " + " & ".join(_latex_escape(c) for c in columns) + r" \\", r"\midrule"]
    previous_section, previous_system = None, None
    for i, row in enumerate(rows):
        if previous_section is not None and row.section != previous_section:
            lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{len(columns) + 2}}}{{l}}{{\textit{{{_latex_escape(row.section)}}}}} \\")
        elif previous_section is None and row.section:
            lines.append(rf"\multicolumn{{{len(columns) + 2}}}{{l}}{{\textit{{{_latex_escape(row.section)}}}}} \\")
        previous_section = row.section
        system = row.system if row.system != previous_system else ""
        previous_system = row.system if not row.is_published else previous_system
        cells = [rf"\textbf{{{_latex_escape(row.texts[c])}}}" if (i, c) in best else _latex_escape(row.texts[c])
                 for c in columns]
        lines.append(f"{_latex_escape(system)} & {_latex_escape(row.metric)} & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def render_csv(table: Table) -> str:
    columns = table.columns
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "system", "metric", "field", "aggregation", *columns])
    for row in table.rows:
        values = [row.texts[c] if row.is_published else _fmt(row.values[c]) for c in columns]
        writer.writerow([row.section, row.system, row.metric, row.field, row.aggregation, *values])
    return buf.getvalue()


def render_long_csv(table: Table) -> str:
    columns = table.columns
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "system", "metric", "field", "aggregation", "column", "value", "ci95_low",
                     "ci95_high", "n", "n_failed", "text"])
    for row in table.rows:
        for column in columns:
            ci = row.cis.get(column)
            n, failed = row.counts.get(column, ("", ""))
            writer.writerow([row.section, row.system, row.metric, row.field, row.aggregation, column,
                             row.texts[column] if row.is_published else _fmt(row.values[column]),
                             _fmt(ci[0]) if ci else "", _fmt(ci[1]) if ci else "", n, failed, row.texts[column]])
    return buf.getvalue()


def render_vs_paper(table: Table) -> tuple[str, str] | None:
    """Markdown and CSV of ours minus published, per cell, where the paper has the row and our
    scorer is the paper's; None when no run has published counterparts."""
    columns = [c for c in table.columns if c != "all"]
    rows = table.rows
    pairs = [(rows[i - 1], row) for i, row in enumerate(rows) if row.is_published]
    if not pairs:
        return None
    lines = ["# ours - published (ZONOS2 report)", "", "| System | Metric | " + " | ".join(columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["system", "metric", "column", "ours", "published", "delta", "comparable"])
    for ours, paper in pairs:
        metric_field = ours.field.split(".", 1)[1]
        # The report's "Spk. sim.*" is a preset voice's similarity, not a cloning score: a delta
        # only against our own preset-voice run (e.g. elevenlabs with `voice`), never against a
        # cloned similarity (nor a published cloned one against our preset voice).
        preset_published = metric_field == "sim" and paper.metric.rstrip().endswith("*")
        mismatch = metric_field == "sim" and preset_published != bool(ours.preset)
        comparable = profile.paper_scorer(paper.published_table, metric_field) == ours.scorer_type and not mismatch
        cells = []
        for column in columns:
            a, b = (ours.preset if ours.preset else ours.values).get(column), paper.values.get(column)
            delta = a - b if a is not None and b is not None and not mismatch else None
            if mismatch and a is not None and b is not None:
                cells.append("not comparable")
            elif delta is None:
                cells.append("")
            else:
                cells.append(f"{delta:+.{ours.decimals}f}" + ("" if comparable else " (other scorer)"))
            writer.writerow([ours.system, ours.metric, column, _fmt(a), paper.texts.get(column, ""), _fmt(delta),
                             comparable])
        lines.append(f"| {ours.system} | {ours.metric} | " + " | ".join(cells) + " |")
    lines += ["", "- (other scorer): our scorer for this metric is not the one the published number was measured "
                  f"with (Tables III/IV: {', '.join(f'{k}: {v}' for k, v in profile.PAPER_SCORERS.items())}; "
                  "Table VII: each benchmark's own stack), so the difference mixes systems and scorers.",
              "- not comparable: one side's similarity is a preset voice (Spk. sim.*: the system did not clone), "
                  "the other a cloned voice."]
    return "\n".join(lines) + "\n", buf.getvalue()


def write_tables(results: list[Results] | Table, stem: Path) -> str:
    """Write ``<stem>.md``, ``.csv``, ``.tex``, ``<stem>_long.csv`` and, where the paper has
    counterparts, ``<stem>_vs_paper.{md,csv}``, all from one set of rows; return the markdown."""
    table = results if isinstance(results, Table) else build_table(results)
    markdown = render_markdown(table)
    atomic.write_text(stem.with_suffix(".md"), markdown)
    atomic.write_text(stem.with_suffix(".csv"), render_csv(table))
    atomic.write_text(stem.with_suffix(".tex"), render_latex(table))
    atomic.write_text(stem.with_name(stem.name + "_long.csv"), render_long_csv(table))
    vs_paper = render_vs_paper(table)
    if vs_paper is not None:
        atomic.write_text(stem.with_name(stem.name + "_vs_paper.md"), vs_paper[0])
        atomic.write_text(stem.with_name(stem.name + "_vs_paper.csv"), vs_paper[1])
    return markdown
