"""Data builders: public sources -> versioned, checksummed manifests (``ztts1-eval data``).

Explicit registry of ``name -> "module:function"``; each builder takes its resolved protocol
config (``conf/data/<name>.yaml`` plus command-line overrides) and returns a
:class:`ztts1_eval.data.common.Built`.
"""

BUILDERS: dict[str, str] = {
    "ztts1_clean": "ztts1_eval.data.fleurs_r:build_clean",
    "ztts1_itw": "ztts1_eval.data.voxblink2:build_itw",
    "seedtts": "ztts1_eval.data.importers:build_seed_tts",
    "cv3": "ztts1_eval.data.importers:build_cv3",
    "minimax": "ztts1_eval.data.importers:build_minimax",
}

# Benchmark builders: make a benchmark's items when it loads, from audio read in place (no build
# step); each takes the data root and the benchmark config (``builder:`` in conf/benchmark).
BENCHMARK_BUILDERS: dict[str, str] = {
    "demo": "ztts1_eval.data.demo:build",
}
