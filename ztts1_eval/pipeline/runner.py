"""One evaluation run: manifest -> synthesis -> scoring -> results, from a resolved config.

The run directory ``<results_dir>/<benchmark>/<system>/<run_id>`` is named by a hash of what
decides the generated audio (system type and options, selected items, seed), so rerunning a
command lands in the same place and resumes. Scorer changes rescore in place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from systems import registry as system_registry
from systems.api.secrets import install_log_redaction
from ztts1_eval.core.checksums import json_sha256
from ztts1_eval.core import atomic, layout, provenance
from ztts1_eval.pipeline import (applicability, benchmark, generation, manifest as manifest_mod, merge, run_guard, scoring)
from ztts1_eval.pipeline.score_cache import ScoreCache
from ztts1_eval.pipeline.speech_check import SpeechCheck
from ztts1_eval.report.model import Results

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    run_dir: Path
    run_id: str
    n_items: int
    n_shard_items: int
    generation: dict[str, int]
    generation_seconds: float
    scoring: dict[str, scoring.ScoreCounts]
    finalized: bool
    results: Results | None = None
    failure: str | None = None  # the failure-rate verdict (run_guard.failure_check), None when fine


def compute_run_id(system_cfg: dict[str, Any], bench_name: str, items_digest: str, seed: int) -> str:
    return json_sha256({
        # Redacted: rotating an API key must not re-synthesize everything.
        "system": {"type": system_cfg["type"], "options": provenance.redact(system_cfg.get("options") or {})},
        "benchmark": {"name": bench_name, "items": items_digest},
        "seed": seed,
    })[:12]


def run(config: dict[str, Any], overrides: list[str] | None = None) -> RunSummary:
    """Run (or resume) one system on one benchmark with one scorer stack."""
    install_log_redaction()  # keys and URL credentials never reach a log line
    results_dir = Path(config["results_dir"]).expanduser()
    cache_dir = Path(config.get("cache_dir") or results_dir / ".cache").expanduser()
    system_cfg, bench_cfg, scorers_cfg = config["system"], config["benchmark"], config["scorers"]
    seed = int(config["seed"])
    generations = int(config.get("generations") or 1)

    manifest, items = benchmark.load(bench_cfg, results_dir)
    digest = benchmark.items_digest(items)
    run_id = compute_run_id(system_cfg, bench_cfg["name"], digest, seed)
    run_dir = layout.run_dir(results_dir, bench_cfg["name"], system_cfg["name"], run_id)
    scorer_specs = {name: dict(spec) for name, spec in (scorers_cfg.get("run") or {}).items()}
    scorers = scoring.create_scorers(scorer_specs)  # fail fast on missing scorer models, before any write
    speech = SpeechCheck.from_config(config.get("speech_check"))
    score_cache = ScoreCache(cache_dir)
    scoring.prepare_scorers(scorers, items, manifest)

    shard = config.get("shard") or {}
    shard_index, shard_count = int(shard.get("index", 0)), int(shard.get("count", 1))
    # One process per shard of a run at a time (a second one would redo the work beside it).
    with run_guard.shard_lock(run_dir, shard_index, shard_count, wait=bool(config.get("wait_for_lock", False))):
        manifest_mod.write(layout.manifest_file(run_dir), items)
        # Shard settings stay out of the stored record: every shard writes the same run.json.
        shared_config = {k: v for k, v in config.items() if k != "shard"}
        shared_overrides = [o for o in (overrides or []) if not o.lstrip("+~").startswith("shard.")]
        atomic.write_json(layout.run_file(run_dir), {
            "run_id": run_id,
            "benchmark": {"name": bench_cfg["name"], "items_digest": digest, "n_items": len(items),
                          "published_table": bench_cfg.get("published_table"),
                          # our table column -> the report's name for it, where they differ; the
                          # table's sub-benchmark where it has several (Table VII's CV3-Eval)
                          "published_columns": bench_cfg.get("published_columns"),
                          "published_section": bench_cfg.get("published_section")},
            "system": {k: system_cfg.get(k) for k in ("name", "type", "label", "section", "published_as")}
                      | {"options": provenance.redact(system_cfg.get("options") or {})},
            "scorers": list(scorer_specs),
            "scorer_stack": scorers_cfg.get("name"),
            "data_root": str(manifest.data_root),
            "seed": seed,
            "generations": generations,
            "failed_as_worst": bool(config.get("failed_as_worst", False)),
            # decides which outputs count as generated: recorded with its threshold
            "speech_check": speech.identity() if speech else None,
            "provenance": provenance.collect(shared_config, shared_overrides),
        })

        shard_items = manifest_mod.select_shard(items, shard_index, shard_count)
        merge.write_shard_record(run_dir, merge.shard_record(config, shard_index, shard_count))
        log.info("run %s: %d items (%d in this shard) -> %s", run_id, len(items), len(shard_items), run_dir)
        progress = bool(config.get("progress", True))

        start = time.perf_counter()
        gen_counts = generation.generate(
            make_system=lambda: system_registry.create(system_cfg["type"], system_cfg.get("options") or {}),
            items=shard_items, manifest=manifest, run_dir=run_dir, seed=seed,
            batch_size=int(system_cfg.get("batch_size") or 8),
            retry_failed=bool(config.get("retry_failed", True)), progress=progress, generations=generations,
            max_audio_s=float(config["max_audio_s"]) if config.get("max_audio_s") else None,
            speech=speech, cache=score_cache,
        )
        gen_seconds = time.perf_counter() - start
        score_counts = scoring.score_all(scorers, shard_items, manifest, run_dir,
                                         score_cache, progress=progress, generations=generations,
                                         item_timeout_s=float(config.get("scorer_item_timeout_s") or 0) or None,
                                         target_output=applicability.output_is_target(system_cfg))
        final = merge.merge(run_dir)  # the last shard to finish writes the merged results
        limit = config.get("max_failure_rate")
        return RunSummary(run_dir=run_dir, run_id=run_id, n_items=len(items), n_shard_items=len(shard_items),
                          generation=gen_counts, generation_seconds=gen_seconds, scoring=score_counts,
                          finalized=final is not None, results=final,
                          failure=run_guard.failure_check(run_dir, shard_items, None if limit is None else float(limit)))
