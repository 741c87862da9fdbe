"""Synthesis stage: run a system over manifest items, one atomic record per generation.

Each finished generation leaves ``wavs/<id>.wav`` and ``generation/<id>.json`` (written in that
order, both atomically), so a rerun after any interruption skips exactly the finished ones.
With ``generations=K`` every item is synthesized K times with distinct recorded seeds (for
diversity metrics): generation 0 keeps the item's id and seed, so raising K later only adds the
new ones (``<id>~1`` ... ``<id>~K-1``; ``~`` never occurs in item ids).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soundfile as sf
from tqdm import tqdm

from systems.base import SynthesisRequest, SynthesisResult, TTSSystem
from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.core import atomic, audio, layout
from ztts1_eval.pipeline import audio_flags
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.pipeline.manifest import Item, Manifest
from ztts1_eval.core.provenance import redact
from ztts1_eval.pipeline.score_cache import ScoreCache
from ztts1_eval.pipeline.speech_check import SpeechCheck, no_speech_reason

log = logging.getLogger(__name__)


@dataclass
class GenerationRecord:
    item_id: str
    status: str  # "ok" | "failed" | "unsupported"
    seed: int
    error: str | None = None
    wav: str | None = None  # relative to the run directory
    sha256: str | None = None
    sample_rate: int | None = None
    duration_s: float | None = None
    latency_s: float | None = None
    rtf: float | None = None
    meta: dict[str, Any] | None = None
    generation: int = 0  # index among the item's K generations
    # audio_flags of the prompt, the ground truth and the output: {"prompt": [...], ...}
    flags: dict[str, list[str]] | None = None
    # their measured numbers (audio_flags.Inspection.stats): {"prompt": {...}, "gt": ..., "output": ...}
    audio: dict[str, dict[str, Any]] | None = None


def generation_id(item_id: str, k: int) -> str:
    return item_id if k == 0 else f"{item_id}~{k}"


def item_seed(global_seed: int, item_id: str) -> int:
    """Per-item seed: independent of batch size, shard and order."""
    digest = hashlib.sha256(f"{global_seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def load_record(run_dir: Path, item_id: str) -> GenerationRecord | None:
    path = layout.record_file(run_dir, item_id)
    if not path.is_file():
        return None
    return GenerationRecord(**atomic.read_json(path))


def ok_generations(run_dir: Path, item_id: str, generations: int) -> list[GenerationRecord] | None:
    """The item's successful generations among the first ``generations``; None while any of
    them has no record yet (still to be synthesized)."""
    records = [load_record(run_dir, generation_id(item_id, k)) for k in range(generations)]
    if any(record is None for record in records):
        return None
    return [record for record in records if record.status == "ok"]


def _is_finished(run_dir: Path, record: GenerationRecord | None, retry_failed: bool) -> bool:
    if record is None:
        return False
    if record.status == "ok":
        wav = run_dir / record.wav
        return wav.is_file() and file_sha256(wav) == record.sha256
    if record.status == "failed":
        return not retry_failed
    return True  # unsupported: retrying changes nothing


def _over_limit(path: Path | None, what: str, max_audio_s: float | None) -> str | None:
    """Why an input clip is refused for its length (read from the header, not decoded), or None.
    A clip whose header cannot be read is left to the decoder, which records its own reason."""
    if path is None or not max_audio_s:
        return None
    try:
        seconds = float(sf.info(str(path)).duration)
    except (RuntimeError, OSError, ValueError):
        return None
    return f"{what} is {seconds:.1f} s, over max_audio_s={max_audio_s:g}" if seconds > max_audio_s else None


ROLE_NAMES = {"prompt": "the prompt", "gt": "the ground-truth recording", "output": "the output"}
# Item meta ``mode``: continuation items need a system that continues the prompt audio.
CONTINUATION = "continuation"


def _write_result(run_dir: Path, request: SynthesisRequest, result: SynthesisResult, k: int = 0,
                  max_audio_s: float | None = None, inputs: dict[str, audio_flags.Inspection] | None = None,
                  speech: SpeechCheck | None = None, cache: ScoreCache | None = None) -> GenerationRecord:
    inputs = inputs or {}
    record = GenerationRecord(item_id=request.item_id, status=result.status, seed=request.seed,
                              error=result.error, latency_s=result.latency_s, meta=result.meta or None,
                              generation=k, flags={role: i.flags for role, i in inputs.items() if i.flags} or None,
                              audio={role: i.stats for role, i in inputs.items() if i.stats} or None)
    if result.status == "ok":
        try:
            if result.samples is None or result.sample_rate is None:
                raise audio.BadAudio("system returned no samples")
            samples = np.asarray(result.samples)
            clip = audio.from_samples(samples, result.sample_rate, what="system output")
            if max_audio_s and clip.duration_s > max_audio_s:  # a runaway generation, not a result
                raise audio.BadAudio(f"output is {clip.duration_s:.1f} s, over max_audio_s={max_audio_s:g}")
        except audio.BadAudio as exc:
            record.status, record.error = "failed", str(exc)
        else:
            wav_rel = layout.wav_relpath(request.item_id)
            # int16 PCM is stored as it came (lossless), anything else as the checked float samples
            audio.write_wav(run_dir / wav_rel, samples if samples.dtype == np.int16 else clip.samples, result.sample_rate)
            record.wav = wav_rel
            record.sha256 = file_sha256(run_dir / wav_rel)
            record.sample_rate = int(result.sample_rate)
            record.duration_s = clip.duration_s
            output = audio_flags.inspect_samples(clip.samples, clip.sample_rate, speech=speech,
                                                 sha256=record.sha256, cache=cache)
            record.audio = {**(record.audio or {}), "output": output.stats}
            if output.flags:
                record.flags = {**(record.flags or {}), "output": output.flags}
            if result.latency_s is not None:
                record.rtf = result.latency_s / clip.duration_s
            silent = no_speech_reason(ROLE_NAMES["output"], output.stats)
            if silent:  # not a synthesis of the text; the clip stays in wavs/ for listening
                record.status, record.error = "failed", silent
    atomic.write_json(layout.record_file(run_dir, request.item_id), asdict(record))
    return record


class SystemChanged(ConfigError):
    """The system now describes itself differently from when this run started."""


def _record_system(run_dir: Path, system: TTSSystem) -> None:
    """Write system.json once; refuse to mix outputs of two versions of a system in one run."""
    described = json.loads(json.dumps(redact(system.describe()), default=str))
    path = layout.system_file(run_dir)
    if path.is_file():
        before = atomic.read_json(path)
        if before != described:
            changed = sorted(k for k in set(before) | set(described) if before.get(k) != described.get(k))
            system.close()
            raise SystemChanged(
                f"{system.name} has changed since this run started (fields {changed}: e.g. a new binary, "
                f"voice or model file). Its earlier outputs in {run_dir} would be mixed with new ones: "
                "delete that run directory or use another results_dir/seed."
            )
    atomic.write_json(path, described)


def generate(
    make_system: Callable[[], TTSSystem],
    items: list[Item],
    manifest: Manifest,
    run_dir: Path,
    seed: int,
    batch_size: int = 8,
    retry_failed: bool = True,
    progress: bool = True,
    generations: int = 1,
    max_audio_s: float | None = None,
    speech: SpeechCheck | None = None,
    cache: ScoreCache | None = None,
) -> dict[str, int]:
    """Synthesize every unfinished generation; return counts. The system is built only if needed.
    ``max_audio_s``: prompts, ground-truth recordings and outputs longer than this fail their item
    (one 10-minute clip would otherwise cost more than the whole benchmark). ``speech``: inputs
    and outputs in which the VAD finds no speech fail their item (``cache`` keeps its answers)."""
    if generations < 1:
        raise ConfigError(f"generations must be >= 1, got {generations}")
    wanted = [(item, k) for item in items for k in range(generations)]
    todo = [(item, k) for item, k in wanted
            if not _is_finished(run_dir, load_record(run_dir, generation_id(item.id, k)), retry_failed)]
    counts = {"reused": len(wanted) - len(todo), "generated": 0, "failed": 0, "unsupported": 0}
    if not todo:
        return counts
    system = make_system()
    _record_system(run_dir, system)
    runnable = []
    inspected: dict[Path, audio_flags.Inspection] = {}  # once per distinct input file

    def inspect_inputs(request: SynthesisRequest) -> dict[str, audio_flags.Inspection]:
        found = {}
        for role, path in (("prompt", request.prompt_wav), ("gt", request.gt_wav)):
            if path is not None:
                if path not in inspected:
                    inspected[path] = audio_flags.inspect_file(path, speech, cache)
                    if inspected[path].flags:
                        log.warning("flagged %s %s: %s", role, path, "; ".join(inspected[path].flags))
                found[role] = inspected[path]
        return found

    for item, k in todo:
        gid = generation_id(item.id, k)
        request = SynthesisRequest(
            item_id=gid, text=item.target_text, language=item.language,
            prompt_wav=manifest.resolve(item.prompt_wav), prompt_text=item.prompt_text,
            seed=item_seed(seed, gid), gt_wav=manifest.resolve(item.gt_wav) if item.gt_wav else None,
        )
        too_long = (_over_limit(request.prompt_wav, "the prompt", max_audio_s)
                    or _over_limit(request.gt_wav, "the ground-truth recording", max_audio_s))
        if too_long:
            _write_result(run_dir, request, SynthesisResult.failed(gid, too_long), k)  # not decoded
            counts["failed"] += 1
        elif not system.capabilities.supports(item.language):
            reason = f"{system.name} does not support language {item.language!r}"
            _write_result(run_dir, request, SynthesisResult(gid, status="unsupported", error=reason), k)
            counts["unsupported"] += 1
        elif item.meta.get("mode") == CONTINUATION and not system.capabilities.continues_prompt:
            # never run in another mode: a zero-shot output is not a continuation
            reason = f"{system.name} cannot continue a prompt (a continuation item: prompt audio continued with its text)"
            _write_result(run_dir, request, SynthesisResult(gid, status="unsupported", error=reason), k)
            counts["unsupported"] += 1
        elif item.meta.get("mode") == CONTINUATION and not item.prompt_text:
            _write_result(run_dir, request, SynthesisResult.failed(gid, "a continuation item needs the prompt transcript"), k)
            counts["failed"] += 1
        elif system.capabilities.needs_prompt_text and not item.prompt_text:
            _write_result(run_dir, request, SynthesisResult.failed(gid, f"{system.name} needs the prompt transcript; item has none"), k)
            counts["failed"] += 1
        else:
            inputs = inspect_inputs(request)
            silent = next((reason for role, found in inputs.items()
                           if (reason := no_speech_reason(ROLE_NAMES[role], found.stats))), None)
            if silent:  # nothing to clone from, or nothing to compare with: the item cannot be scored
                _write_result(run_dir, request, SynthesisResult.failed(gid, silent), k, inputs=inputs)
                counts["failed"] += 1
            else:
                runnable.append((request, k, inputs))
    try:
        with tqdm(total=len(runnable), desc=f"synthesize {system.name}", unit="item", disable=not progress) as bar:
            for start in range(0, len(runnable), batch_size):
                batch = [request for request, _, _ in runnable[start:start + batch_size]]
                indices = [k for _, k, _ in runnable[start:start + batch_size]]
                inputs = [flags for _, _, flags in runnable[start:start + batch_size]]
                try:
                    results = system.synthesize(batch)
                    if len(results) != len(batch):
                        raise RuntimeError(f"system returned {len(results)} results for {len(batch)} requests")
                except Exception as exc:
                    log.exception("batch failed in %s", system.name)
                    results = [SynthesisResult.failed(r.item_id, f"batch failed: {type(exc).__name__}: {exc}") for r in batch]
                for request, result, k, flags in zip(batch, results, indices, inputs):
                    record = _write_result(run_dir, request, result, k, max_audio_s, flags, speech, cache)
                    counts["generated" if record.status == "ok" else "failed"] += 1
                    if record.status != "ok":
                        log.warning("%s: %s failed: %s", system.name, request.item_id, record.error)
                bar.update(len(batch))
    finally:
        system.close()
    return counts
