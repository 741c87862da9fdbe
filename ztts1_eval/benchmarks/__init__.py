"""Benchmark builders: turn a source dataset into a manifest.

Explicit registry of ``name -> "module:function"``; each builder takes the data root and the
benchmark config and returns manifest items.
"""

BUILDERS: dict[str, str] = {
    "demo": "ztts1_eval.benchmarks.demo:build",
}
