"""``ztts1-eval speed``: latency and throughput of a speech server, measured as serving engines
measure it. Two protocols: OpenAI's ``POST /v1/audio/speech`` (our ZONOS2 server, sglang-omni,
vLLM-omni, ...) and the official ZONOS2 server's ``POST /tts/generate``.

For each concurrency level, ``concurrency`` closed-loop clients send the texts one request after
another (each client starts its next request when its last one ends); ``--rate`` instead sends
requests at Poisson arrivals of that mean rate (open loop), whatever the server's pace. Per
request: time to first audio byte (TTFA), total latency and the audio seconds received; per
level: p50/p95/p99 of both, requests/s and audio-seconds/s over the level's wall time, and the
mean real-time factor. The first ``warmup`` requests of each level are sent and not counted.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

PCM_RATE = 24000  # OpenAI's pcm format: 24 kHz, 16-bit little-endian mono
PROTOCOLS = {"openai": "/v1/audio/speech", "zonos2": "/tts/generate"}  # protocol -> its default path


def shared_fields(protocol: str, model: str, voice: str, response_format: str, stream: bool,
                  max_new_tokens: int | None = None) -> dict[str, Any]:
    """What every request of a run carries. OpenAI's: model, voice, format, stream, and
    ``stream_format: audio`` when streaming (raw bytes; vLLM-omni answers ``stream`` alone with
    SSE). The official ZONOS2 server's: ``stream`` only (its own defaults for the rest; it always
    answers float32 PCM). No ``seed``: sglang-omni refuses one for ZONOS2. A frame cap, when
    given, goes as ``max_new_tokens`` (what sglang-omni's own benchmark sends, 2048) or as the
    official server's ``max_tokens``."""
    if protocol == "zonos2":
        fields: dict[str, Any] = {"stream": stream}
        return fields if max_new_tokens is None else {**fields, "max_tokens": max_new_tokens}
    fields = {"model": model, "voice": voice, "response_format": response_format, "stream": stream}
    if max_new_tokens is not None:
        fields["max_new_tokens"] = max_new_tokens
    return {**fields, "stream_format": "audio"} if stream else fields


def request_fields(protocol: str, text: str, prompt: Path | None = None, prompt_text: str | None = None
                   ) -> dict[str, Any]:
    """One request's own fields: its text and, to clone, the prompt audio. OpenAI's protocol
    sends ``ref_audio`` as a base64 data URL with ``ref_text`` (what sglang-omni, vLLM-omni and
    our server accept); the official ZONOS2 server takes ``speaker_audio_base64``."""
    if protocol == "zonos2":
        fields: dict[str, Any] = {"text": text}
        if prompt is not None:
            fields["speaker_audio_base64"] = base64.b64encode(prompt.read_bytes()).decode("ascii")
        return fields
    fields = {"input": text}
    if prompt is not None:
        kind = mimetypes.guess_type(prompt.name)[0] or "audio/wav"
        fields["ref_audio"] = f"data:{kind};base64,{base64.b64encode(prompt.read_bytes()).decode('ascii')}"
        if prompt_text:
            fields["ref_text"] = prompt_text
    return fields


@dataclass(frozen=True)
class Sample:
    ok: bool
    ttfa_s: float | None
    latency_s: float
    audio_s: float
    error: str | None = None


def _audio_seconds(body: bytes, response_format: str, headers=None) -> float:
    """Seconds of audio in a response. Raw PCM is sized by the server's headers: the official
    ZONOS2 server's float32 ``X-Audio-*``, sglang-omni's (and ours) ``X-Sample-Rate`` /
    ``X-Channels`` / ``X-Bit-Depth``, else OpenAI's 24 kHz 16-bit mono."""
    headers = headers or {}
    if headers.get("x-audio-format") == "float32":
        return len(body) / (4.0 * int(headers.get("x-audio-channels", 1))
                            * int(headers.get("x-audio-sample-rate", PCM_RATE)))
    if response_format == "pcm":
        width = int(headers.get("x-bit-depth", 16)) // 8 * int(headers.get("x-channels", 1))
        return len(body) / (width * float(headers.get("x-sample-rate", PCM_RATE)))
    import soundfile as sf

    info = sf.info(io.BytesIO(body))
    return info.frames / float(info.samplerate)


def request_once(client, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Sample:
    """One request, streamed: the clock stops at its first non-empty body chunk and at its end."""
    start = time.perf_counter()
    first = None
    try:
        with client.stream("POST", url, json=payload, headers=headers) as response:
            if response.status_code != 200:
                body = response.read()
                return Sample(False, None, time.perf_counter() - start, 0.0,
                              f"HTTP {response.status_code}: {body[:200].decode(errors='replace')}")
            pieces = []
            for piece in response.iter_bytes():
                if piece and first is None:
                    first = time.perf_counter() - start
                pieces.append(piece)
        latency = time.perf_counter() - start
        return Sample(True, first, latency, _audio_seconds(b"".join(pieces), payload.get("response_format", "wav"),
                                                           {k.lower(): v for k, v in response.headers.items()}))
    except Exception as exc:  # noqa: BLE001 - a failed request is a recorded sample, never a crash
        return Sample(False, first, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}")


def drive(count: int, call, concurrency: int, rate: float | None = None, seed: int = 0) -> tuple[list[Sample], float]:
    """Run ``call(index) -> Sample`` for ``count`` indices: closed loop (``concurrency`` clients,
    each starting its next call when its last ends) or, with ``rate``, open loop (Poisson
    arrivals at ``rate`` per second, whatever the pace of the answers). Returns the samples
    and the wall time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    start = time.perf_counter()
    if rate:
        gaps = np.random.default_rng(seed).exponential(1.0 / rate, count)
        arrivals = np.cumsum(gaps) - gaps[0]

        def timed(index: int) -> None:
            time.sleep(max(0.0, start + arrivals[index] - time.perf_counter()))
            sample = call(index)
            with lock:
                samples.append(sample)

        with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
            list(pool.map(timed, range(count)))
    else:
        queue = list(range(count))

        def client_loop() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop(0)
                sample = call(index)
                with lock:
                    samples.append(sample)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for _ in range(concurrency):
                pool.submit(client_loop)
    return samples, time.perf_counter() - start


def run_level(url: str, texts: Sequence[str | dict[str, Any]], concurrency: int, payload: dict[str, Any],
              headers: dict[str, str], warmup: int = 1, rate: float | None = None,
              seed: int = 0, timeout_s: float = 300.0) -> dict[str, Any]:
    """``texts``: the ``input`` of each request, or each request's own fields (``input`` and, for
    cloning, ``ref_audio`` / ``ref_text``) added to ``payload``."""
    import httpx

    jobs = [dict(payload, **(text if isinstance(text, dict) else {"input": text})) for text in texts]
    with httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=max(concurrency, 1) * 2)) as client:
        for job in jobs[:warmup]:
            request_once(client, url, job, headers)
        measured = jobs[warmup:] or jobs
        samples, wall = drive(len(measured), lambda i: request_once(client, url, measured[i], headers),
                              concurrency, rate, seed)
    return summarize(samples, wall, concurrency, rate, warmup)


def synthesize_once(system, request, lock: threading.Lock | None) -> Sample:
    """One request to an in-process system or API adapter (``systems.base.TTSSystem``). TTFA is
    the adapter's time to the first response byte where it streams (API adapters' ``ttfb_s``),
    else the whole latency: the audio arrives at once. ``lock`` serializes systems that are not
    safe to call from several threads (one model, one worker pipe)."""
    start = time.perf_counter()
    try:
        if lock is None:
            [result] = system.synthesize([request])
        else:
            with lock:
                [result] = system.synthesize([request])
    except Exception as exc:  # noqa: BLE001 - a failed request is a recorded sample, never a crash
        return Sample(False, None, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - start
    if result.status != "ok" or result.samples is None or not result.sample_rate:
        return Sample(False, None, latency, 0.0, result.error or "no audio")
    first = (result.meta or {}).get("ttfb_s")
    return Sample(True, float(first) if first is not None else latency, latency,
                  len(result.samples) / float(result.sample_rate))


def run_system_level(system, requests: Sequence[Any], concurrency: int, warmup: int = 1, rate: float | None = None,
                     seed: int = 0) -> dict[str, Any]:
    """One load level against a system object: ``concurrency`` client threads calling its
    ``synthesize`` one request at a time (serialized unless the system says it is thread-safe)."""
    lock = None if getattr(system, "thread_safe", False) else threading.Lock()
    for request in requests[:warmup]:
        synthesize_once(system, request, lock)
    measured = list(requests[warmup:]) or list(requests)
    samples, wall = drive(len(measured), lambda i: synthesize_once(system, measured[i], lock), concurrency, rate, seed)
    level = summarize(samples, wall, concurrency, rate, warmup)
    level["serialized"] = lock is not None
    return level


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "mean": None}
    array = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(array, 50)), "p95": float(np.percentile(array, 95)),
            "p99": float(np.percentile(array, 99)), "mean": float(array.mean())}


def summarize(samples: list[Sample], wall_s: float, concurrency: int, rate: float | None, warmup: int) -> dict[str, Any]:
    ok = [s for s in samples if s.ok]
    audio = sum(s.audio_s for s in ok)
    return {
        "concurrency": concurrency, "rate": rate, "mode": "open loop (Poisson)" if rate else "closed loop",
        "requests": len(samples), "ok": len(ok), "warmup_excluded": warmup, "wall_s": wall_s,
        "ttfa_s": _percentiles([s.ttfa_s for s in ok if s.ttfa_s is not None]),
        "latency_s": _percentiles([s.latency_s for s in ok]),
        "rtf_mean": float(np.mean([s.latency_s / s.audio_s for s in ok if s.audio_s > 0])) if ok else None,
        "requests_per_s": len(ok) / wall_s if wall_s > 0 else None,
        "audio_s_per_s": audio / wall_s if wall_s > 0 else None,
        "errors": sorted({s.error for s in samples if s.error})[:5],
    }


def render_markdown(levels: list[dict[str, Any]], url: str) -> str:
    def ms(value: float | None) -> str:
        return "" if value is None else f"{1000 * value:.0f}"

    lines = [f"# Speed of {url}", "",
             "| Load | OK / sent | TTFA p50 / p95 / p99 (ms) | Latency p50 / p95 / p99 (ms) | RTF | req/s | audio s/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for level in levels:
        load = f"{level['rate']:g} req/s (open loop)" if level["rate"] else f"{level['concurrency']} clients"
        ttfa, latency = level["ttfa_s"], level["latency_s"]
        rtf = "" if level["rtf_mean"] is None else f"{level['rtf_mean']:.3f}"
        lines.append(f"| {load} | {level['ok']} / {level['requests']} | "
                     f"{ms(ttfa['p50'])} / {ms(ttfa['p95'])} / {ms(ttfa['p99'])} | "
                     f"{ms(latency['p50'])} / {ms(latency['p95'])} / {ms(latency['p99'])} | "
                     f"{rtf} | "
                     f"{level['requests_per_s']:.2f} | {level['audio_s_per_s']:.2f} |")
    lines += ["", f"- First {levels[0]['warmup_excluded'] if levels else 0} request(s) of each level sent as warm-up "
                  "and not counted. TTFA: first non-empty body chunk (a system in this process: its adapter's "
                  "time to the first response byte where it streams, else the whole latency). RTF: latency / "
                  "audio seconds received."]
    if any(level.get("serialized") for level in levels):
        lines.append("- The system is not safe to call from several threads: its calls were made one at a time, "
                     "so concurrency only queues requests.")
    return "\n".join(lines) + "\n"


def plot_runs(runs: list[dict[str, Any]], path) -> None:
    """Latency (p50, and p95 dashed) against throughput (requests/s), one line per system, each
    point a load level: the serving engines' way of showing a speed trade-off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for run in runs:
        levels = [lv for lv in run["levels"] if lv.get("requests_per_s") and lv["latency_s"]["p50"] is not None]
        if not levels:
            continue
        x = [lv["requests_per_s"] for lv in levels]
        line, = ax.plot(x, [lv["latency_s"]["p50"] for lv in levels], marker="o", label=run.get("label") or run["url"])
        ax.plot(x, [lv["latency_s"]["p95"] for lv in levels], linestyle="--", color=line.get_color(), alpha=0.6)
        for lv, xi in zip(levels, x):
            ax.annotate(f"{lv['rate']:g}/s" if lv["rate"] else f"c={lv['concurrency']}", (xi, lv["latency_s"]["p50"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("throughput (requests/s)")
    ax.set_ylabel("latency (s): p50, p95 dashed")
    ax.set_title("Latency vs throughput")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
