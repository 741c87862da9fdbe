"""Scoring stage: one scorer at a time over all items (bounded memory), cached by content.

Per run, each (scorer, item) gets ``scores/<scorer>/<item>.json`` with its status, values and
the hashes it was computed from, so finalizing a run needs no model and notices stale scores.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.core import atomic, audio, blobs, layout
from ztts1_eval.pipeline.applicability import not_applicable
from ztts1_eval.core.deadline import Timeout, deadline
from ztts1_eval.pipeline.generation import load_record, ok_generations
from ztts1_eval.pipeline.manifest import Item, Manifest
from ztts1_eval.pipeline.score_cache import ScoreCache, cache_key
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScorerUnavailable, ScoreInput, ScoreOutput, Scorer

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    item: Item
    key: str
    audio_path: Path
    audio_sha256: str
    reference_path: Path | None
    reference_sha256: str | None
    duration_s: float = 0.0
    gt_path: Path | None = None
    gt_sha256: str | None = None
    sample_paths: list[Path] | None = None
    sample_sha256: list[str] | None = None


@dataclass
class ScoreCounts:
    computed: int = 0
    from_cache: int = 0
    reused: int = 0
    failed: int = 0
    not_applicable: int = 0
    seconds: float = 0.0


def _from_cache(cache: ScoreCache, key: str, run_dir: Path) -> dict[str, Any] | None:
    """Cached values, with the arrays they refer to copied into the run; None (recompute) when
    an array is gone from the cache."""
    cached = cache.get(key)
    if cached is None:
        return None
    try:
        for ref in blobs.refs_in(cached):
            blobs.copy(cache.root, layout.scores_dir(run_dir), ref)
    except blobs.BlobMissing:
        return None
    return cached


def _write_score(run_dir: Path, name: str, pending: _Pending, output: ScoreOutput, identity_hash: str) -> None:
    atomic.write_json(layout.score_file(run_dir, name, pending.item.id), {
        "key": pending.key, "scorer_identity_hash": identity_hash, "status": output.status, "reason": output.reason, "values": output.values,
        "audio_sha256": pending.audio_sha256, "reference_sha256": pending.reference_sha256,
        "gt_sha256": pending.gt_sha256, "generations_sha256": pending.sample_sha256,
    })


def _existing_ok(run_dir: Path, name: str, item_id: str, key: str) -> bool:
    path = layout.score_file(run_dir, name, item_id)
    if not path.is_file():
        return False
    record = atomic.read_json(path)
    return record.get("key") == key and record.get("status") == "ok"


def _describe(scorer: Scorer) -> dict[str, Any]:
    info = scorer.info
    return {
        "type": scorer.type_name,
        "identity": scorer.identity(),
        "identity_hash": scorer.identity_hash(),
        "batch_size": scorer.batch_size,
        "kind": info.kind,
        "sample_rate": info.sample_rate,
        "native_rates": list(info.native_rates),
        "needs_text": info.needs_text,
        "needs_reference_audio": info.needs_reference_audio,
        "needs_ground_truth": info.needs_ground_truth,
        "needs_all_samples": info.needs_all_samples,
        "needs_meta": list(info.needs_meta),
        "languages": sorted(info.languages) if info.languages is not None else None,
        "unsupported_reason": info.unsupported_reason,
        "metrics": [vars(m) for m in info.metrics],
    }


def _read_for(scorer: Scorer, path: Path, what: str) -> audio.Audio:
    """Decode, check and resample to the rate the scorer runs at for this input."""
    clip = audio.read_checked(path, what)
    return audio.resample(clip, scorer.info.rate_for(clip.sample_rate))


def _load_inputs(pending: _Pending, scorer: Scorer) -> ScoreInput:
    info = scorer.info
    clip = _read_for(scorer, pending.audio_path, "output")
    reference = _read_for(scorer, pending.reference_path, "prompt") if info.needs_reference_audio else None
    ground_truth = _read_for(scorer, pending.gt_path, "ground truth") if info.needs_ground_truth else None
    generations = ([_read_for(scorer, path, "generation") for path in pending.sample_paths or []]
                   if info.needs_all_samples else None)
    return ScoreInput(item_id=pending.item.id, language=pending.item.language, audio=clip,
                      reference=reference, text=pending.item.target_text, ground_truth=ground_truth,
                      samples=generations, meta={k: pending.item.meta[k] for k in info.needs_meta})


def run_scorer(name: str, scorer: Scorer, items: list[Item], manifest: Manifest, run_dir: Path,
               cache: ScoreCache, progress: bool = True, generations: int = 1,
               item_timeout_s: float | None = None, target_output: bool = False) -> ScoreCounts:
    """Score every applicable item with an ok output (``target_output``: the outputs are the
    items' own recordings, see ztts1_eval.pipeline.applicability)."""
    counts = ScoreCounts()
    description = _describe(scorer)
    if scorer.info.needs_all_samples:
        description["generations"] = generations
    identity = description["identity"]
    scorer.attach_cache(cache)
    loaded = False
    if scorer.info.kind == "distribution" and any(
            not_applicable(description, item, target_output) is None for item in items):
        description["noise_features"], loaded = _noise_features(scorer, cache, description, run_dir)
    # One write, complete: finalize never sees a description without its noise features.
    atomic.write_json(layout.scorer_meta_file(run_dir, name), description)
    todo: list[_Pending] = []
    prompt_hashes: dict[str, str] = {}
    for item in items:
        record = load_record(run_dir, item.id)
        if record is None or record.status != "ok":
            continue
        if not_applicable(description, item, target_output):
            counts.not_applicable += 1
            continue
        reference_path = reference_sha = None
        if scorer.info.needs_reference_audio:
            reference_path = manifest.resolve(item.prompt_wav)
            if item.prompt_wav not in prompt_hashes:
                prompt_hashes[item.prompt_wav] = file_sha256(reference_path)
            reference_sha = prompt_hashes[item.prompt_wav]
        gt_path = gt_sha = None
        if scorer.info.needs_ground_truth:
            gt_path = manifest.resolve(item.gt_wav)
            gt_sha = file_sha256(gt_path)
        samples = samples_tag = None
        if scorer.info.needs_all_samples:
            done = ok_generations(run_dir, item.id, generations)
            if done is None:
                continue  # a generation is still pending (resume finishes it)
            samples = [(run_dir / r.wav, r.sha256) for r in done]
            samples_tag = "generations:" + ",".join(sha for _, sha in samples)
        text = item.target_text if scorer.info.needs_text else None
        meta_tag = ("meta:" + json.dumps({k: item.meta[k] for k in scorer.info.needs_meta}, sort_keys=True)
                    if scorer.info.needs_meta else None)
        companion = "|".join(x for x in (reference_sha, f"gt:{gt_sha}" if gt_sha else None, samples_tag, meta_tag)
                             if x) or None
        key = cache_key(identity, record.sha256, companion, text, item.language)
        pending = _Pending(item, key, run_dir / record.wav, record.sha256, reference_path, reference_sha,
                           record.duration_s or 0.0, gt_path, gt_sha,
                           [path for path, _ in samples] if samples is not None else None,
                           [sha for _, sha in samples] if samples is not None else None)
        if _existing_ok(run_dir, name, item.id, key):
            counts.reused += 1
            continue
        cached = _from_cache(cache, key, run_dir)
        if cached is not None:
            _write_score(run_dir, name, pending, ScoreOutput(values=cached), description["identity_hash"])
            counts.from_cache += 1
            continue
        todo.append(pending)
    if todo:
        if not loaded:
            scorer.load()
        _score_pending(name, scorer, todo, run_dir, cache, counts, description, progress, item_timeout_s)
    return counts


def _noise_features(scorer: Scorer, cache: ScoreCache, description: dict[str, Any],
                    run_dir: Path) -> tuple[Any, bool]:
    """Features of the noise sets (cached like scores); returns them and whether the model loaded."""
    key = cache_key(description["identity"], "noise-sets", None, None, "*")
    features = _from_cache(cache, key, run_dir)
    if features is not None:
        return features, False
    scorer.load()
    features = blobs.store_arrays(scorer.noise_features(), [layout.scores_dir(run_dir), cache.root])
    cache.put(key, features)
    return features, True


def _score_within(scorer: Scorer, inputs: list[ScoreInput], item_timeout_s: float | None) -> list[ScoreOutput]:
    """Score a batch within ``item_timeout_s`` per item; a batch over its limit is scored again
    one item at a time, so only the slow item fails (with the reason) and the others count."""
    try:
        with deadline(item_timeout_s * len(inputs) if item_timeout_s else None):
            return scorer.score(inputs)
    except Timeout:
        if len(inputs) == 1:
            log.warning("scoring %s took over %g s; recorded as failed", inputs[0].item_id, item_timeout_s)
            return [ScoreOutput(status="failed",
                                reason=f"scoring took over {item_timeout_s:g} s (scorer_item_timeout_s)")]
        return [output for one in inputs for output in _score_within(scorer, [one], item_timeout_s)]


def _score_pending(name: str, scorer: Scorer, todo: list[_Pending], run_dir: Path, cache: ScoreCache,
                   counts: ScoreCounts, description: dict[str, Any], progress: bool,
                   item_timeout_s: float | None = None) -> None:
    # Similar durations together (less padding for batched models); ties by id: deterministic.
    todo.sort(key=lambda p: (p.duration_s, p.item.id))
    with tqdm(total=len(todo), desc=f"score {name}", unit="item", disable=not progress) as bar:
        for start in range(0, len(todo), scorer.batch_size):
            batch = todo[start:start + scorer.batch_size]
            inputs, ready = [], []
            for pending in batch:
                try:
                    inputs.append(_load_inputs(pending, scorer))
                    ready.append(pending)
                except audio.BadAudio as exc:
                    _write_score(run_dir, name, pending, ScoreOutput(status="failed", reason=str(exc)),
                                 description["identity_hash"])
                    counts.failed += 1
            if inputs:
                try:
                    outputs = _score_within(scorer, inputs, item_timeout_s)
                except Exception as exc:  # record, keep going: finished scores stay on disk
                    log.exception("scorer %s failed on a batch", name)
                    outputs = [ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}") for _ in inputs]
                for pending, output in zip(ready, outputs):
                    if output.status == "ok":  # large arrays go to the blob stores, records keep refs
                        output.values = blobs.store_arrays(output.values, [layout.scores_dir(run_dir), cache.root])
                    _write_score(run_dir, name, pending, output, description["identity_hash"])
                    if output.status == "ok":
                        cache.put(pending.key, output.values)
                        counts.computed += 1
                    else:
                        counts.failed += 1
            bar.update(len(batch))


def create_scorers(scorer_specs: dict[str, dict[str, Any]]) -> dict[str, Scorer]:
    """Instantiate (not load) every scorer: missing models fail here, before any synthesis, and
    all of them are named at once so one round of downloads fixes the run."""
    scorers, missing = {}, []
    for name, spec in scorer_specs.items():
        try:
            scorers[name] = registry.create(spec["type"], {k: v for k, v in spec.items() if k != "type"})
        except ScorerUnavailable as exc:
            missing.append(f"[{name}] {exc}")
    if missing:
        raise ScorerUnavailable("\n".join(missing))
    return scorers


def prepare_scorers(scorers: dict[str, Scorer], items: list[Item], manifest: Manifest) -> None:
    """Hand scorers that fit a model on real speech the run's recordings: every item of the run
    (not just this shard), so every shard fits the same model and has the same identity."""
    fitting = [s for s in scorers.values() if s.info.fits_on_references]
    if not fitting:
        return
    recordings = []
    for item in items:
        if item.gt_wav:
            path = manifest.resolve(item.gt_wav)
            recordings.append((item.id, path, file_sha256(path), item.language))
    for scorer in fitting:
        scorer.set_reference_recordings(recordings)


def score_all(scorers: dict[str, Scorer], items: list[Item], manifest: Manifest,
              run_dir: Path, cache: ScoreCache, progress: bool = True, generations: int = 1,
              item_timeout_s: float | None = None, target_output: bool = False) -> dict[str, ScoreCounts]:
    """Run each scorer in turn, releasing its model before the next loads. An item whose
    scoring takes over ``item_timeout_s`` fails with that reason."""
    results = {}
    for name in list(scorers):
        start = time.perf_counter()
        scorer = scorers.pop(name)
        try:
            results[name] = run_scorer(name, scorer, items, manifest, run_dir, cache, progress, generations,
                                       item_timeout_s, target_output)
        finally:
            scorer.close()
            del scorer
            gc.collect()
        results[name].seconds = time.perf_counter() - start
        log.info("scorer %s: %s", name, results[name])
    return results
