"""A static listening page per benchmark: ``results/<benchmark>/listen/index.html``.

One self-contained HTML file (no server, no network): the summary table at the top, then one
card per item with its text, the clone prompt, the ground truth and every system's output as
``<audio>`` players beside that item's scores. Audio is referenced by relative path (the run
directories' WAVs and the data root's clips), never copied. Filters (language, system) and the
sort (any system x metric, either direction) are in the page and in its URL
(``?lang=en&system=Flite&sort=Flite|wer.wer|desc``), so a view can be bookmarked or shared.
The page reports how many players loaded their audio in ``data-audio-loaded`` on ``<body>``.

Manifest texts, ids and labels are data, never markup: the page is a jinja2 template with
autoescaping, and the embedded JSON escapes ``<``, ``>`` and ``&`` (``\u003c``...), so no text
(``</script>``, ``<!--<script>``) can end or open an element of the page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from ztts1_eval.core import atomic, layout
from ztts1_eval.report import tables
from ztts1_eval.report.model import Results, status_column, system_labels, value_column

PAGE_DIR = "listen"


def _rel(target: Path, page_dir: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), page_dir.resolve())).as_posix()


def page_data(results: list[Results], page_dir: Path) -> dict[str, Any]:
    runs = tables.ordered(results)  # the tables' order of systems
    names = system_labels(runs)
    items: dict[str, dict[str, Any]] = {}
    metric_labels: dict[str, str] = {}
    for name, result in zip(names, runs):
        run_dir = result.run_dir
        frame = result.items()
        data_root = Path(atomic.read_json(layout.run_file(run_dir))["data_root"])
        metrics = result.per_item_metrics()
        metric_labels.update({key: metric.spec.label for key, metric in metrics.items()})
        for row in frame.sort_values("id").to_dict("records"):
            item = items.setdefault(row["id"], {
                "id": row["id"], "language": row["language"], "subset": row["subset"], "text": row["target_text"],
                "prompt": _rel(data_root / row["prompt_wav"], page_dir),
                "gt": _rel(data_root / row["gt_wav"], page_dir) if row.get("gt_wav") else None,
                "outputs": {}})
            scores = {}
            for key, metric in metrics.items():
                value = row.get(value_column(metric.scorer, metric.spec.field)) \
                    if row.get(status_column(metric.scorer)) == "ok" else None
                scores[key] = None if value is None or pd.isna(value) else \
                    round(float(value) * metric.spec.scale, metric.spec.decimals + 2)
            item["outputs"][name] = {
                # a failed output that was kept (no speech detected) can be listened to, marked failed
                "audio": _rel(run_dir / row["output_wav"], page_dir) if isinstance(row.get("output_wav"), str) else None,
                "status": row["status"], "scores": scores}
    return {"systems": names, "metrics": dict(sorted(metric_labels.items())),
            "languages": sorted({i["language"] for i in items.values()}),
            "items": [items[k] for k in sorted(items)]}


_SCRIPT = r"""
const DATA = JSON.parse(document.getElementById('data').textContent);
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
function option(select, value, label) { const o = document.createElement('option'); o.value = value; o.textContent = label; select.appendChild(o); }
option($('lang'), '', 'all languages'); DATA.languages.forEach(l => option($('lang'), l, l));
option($('system'), '', 'all systems'); DATA.systems.forEach(s => option($('system'), s, s));
option($('sort'), '', 'item id');
DATA.systems.forEach(s => Object.entries(DATA.metrics).forEach(([k, label]) => {
  option($('sort'), s + '|' + k + '|desc', s + ': ' + label + ' (highest first)');
  option($('sort'), s + '|' + k + '|asc', s + ': ' + label + ' (lowest first)');
}));
$('lang').value = params.get('lang') || ''; $('system').value = params.get('system') || ''; $('sort').value = params.get('sort') || '';
let loaded = 0, failed = 0;
function player(src) {
  if (!src) return document.createTextNode('—');
  const a = document.createElement('audio'); a.controls = true; a.preload = 'metadata'; a.src = src;
  a.addEventListener('loadedmetadata', () => { loaded += 1; document.body.dataset.audioLoaded = loaded; });
  a.addEventListener('error', () => { failed += 1; document.body.dataset.audioFailed = failed; });
  return a;
}
function fmt(v) { return v === null || v === undefined ? '—' : String(v); }
function render() {
  const lang = $('lang').value, system = $('system').value, sort = $('sort').value;
  const url = new URLSearchParams(); if (lang) url.set('lang', lang); if (system) url.set('system', system); if (sort) url.set('sort', sort);
  history.replaceState(null, '', url.toString() ? '?' + url.toString() : location.pathname);
  let items = DATA.items.filter(i => !lang || i.language === lang);
  if (sort) {
    const [s, k, dir] = sort.split('|');
    const value = (i) => (i.outputs[s] && i.outputs[s].scores[k] !== null && i.outputs[s].scores[k] !== undefined) ? i.outputs[s].scores[k] : null;
    items = items.filter(i => value(i) !== null).sort((a, b) => (dir === 'asc' ? 1 : -1) * (value(a) - value(b)) || a.id.localeCompare(b.id));
  }
  const systems = DATA.systems.filter(s => !system || s === system);
  const list = $('items'); list.replaceChildren();
  items.forEach(i => {
    const card = document.createElement('section'); card.className = 'item'; card.dataset.id = i.id; card.dataset.language = i.language;
    const h = document.createElement('h3'); h.textContent = i.id + ' (' + i.language + ', ' + i.subset + ')'; card.appendChild(h);
    const p = document.createElement('p'); p.textContent = i.text; card.appendChild(p);
    const t = document.createElement('table');
    const head = t.insertRow(); ['', 'audio', ...Object.values(DATA.metrics)].forEach(x => { const th = document.createElement('th'); th.textContent = x; head.appendChild(th); });
    const add = (name, src, scores, status) => {
      const r = t.insertRow(); r.dataset.system = name; r.insertCell().textContent = name + (status && status !== 'ok' ? ' (' + status + ')' : '');
      r.insertCell().appendChild(player(src));
      Object.keys(DATA.metrics).forEach(k => { r.insertCell().textContent = scores ? fmt(scores[k]) : ''; });
    };
    add('clone prompt', i.prompt, null); add('ground truth', i.gt, null);
    systems.forEach(s => { const o = i.outputs[s]; if (o) add(s, o.audio, o.scores, o.status); });
    card.appendChild(t); list.appendChild(card);
  });
  document.body.dataset.itemsShown = items.length;
  document.body.dataset.firstItem = items.length ? items[0].id : '';
}
['lang', 'system', 'sort'].forEach(id => $(id).addEventListener('change', render));
render();
document.body.dataset.ready = '1';
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; max-width: 1200px; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: .2em .5em; font-size: 90%; }
section.item { border-top: 2px solid #888; margin-top: 1em; } audio { height: 2em; }
.controls { position: sticky; top: 0; background: white; padding: .5em 0; }
"""


_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ benchmarks }}: listening page</title>
<style>{{ style }}</style></head>
<body>
<h1>{{ benchmarks }}: listening page</h1>
<h2>Summary</h2>
<table class="summary"><tr><th>System</th><th>Metric</th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in rows %}<tr><td>{{ row.system }}</td><td>{{ row.metric }}</td>{% for c in columns %}<td>{{ row.texts[c] }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Items</h2>
<div class="controls">
<label>Language <select id="lang"></select></label>
<label>System <select id="system"></select></label>
<label>Sort by <select id="sort"></select></label>
</div>
<div id="items"></div>
<script type="application/json" id="data">{{ payload }}</script>
<script>{{ script }}</script>
</body></html>
""")


def script_safe_json(data: Any) -> str:
    """JSON that cannot close or open an HTML element wherever it is embedded."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def write_page(results: list[Results], out_dir: Path, table: tables.Table | None = None) -> Path:
    """The page, with ``table`` (the report's, built once) or one built from ``results``."""
    page_dir = out_dir / PAGE_DIR
    page_dir.mkdir(parents=True, exist_ok=True)
    data = page_data(results, page_dir)
    table = table or tables.build_table(results)
    document = _PAGE.render(
        benchmarks=", ".join(sorted({r.benchmark_name for r in results})),
        columns=table.columns, rows=table.rows,
        # trusted constants and escaped JSON: inserted as they are
        style=Markup(_STYLE), script=Markup(_SCRIPT), payload=Markup(script_safe_json(data)))
    path = page_dir / "index.html"
    atomic.write_text(path, document)
    return path
