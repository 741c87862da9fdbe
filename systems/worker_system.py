"""Open models run in a worker process, possibly in another Python environment.

:class:`WorkerSystem` starts ``<python> -m systems.workers.<name>`` (``python``: the worker's
interpreter, by default this one), hands it its settings, waits for ``ready`` and then streams
requests to it one at a time (the model uses the whole GPU; parallelism comes from shards). The
protocol is in :mod:`systems.workers.serve`.

Failure handling: a failed item is recorded with the worker's message; a worker that dies or
exceeds ``item_timeout_s`` fails that item with the tail of its stderr and is restarted for the
next one (at most ``max_restarts`` times, then remaining items fail with the reason); a worker
that cannot load its model raises :class:`SystemUnavailable` with the worker's error and the
install hint.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import soundfile as sf

from systems.api.secrets import redact
from systems.base import Capabilities, SynthesisRequest, SynthesisResult, SystemUnavailable, TTSSystem

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]


def _resolve_model(model: str) -> str:
    """A model directory given relative to the current directory, made absolute (the worker
    runs from the repository); hub ids and absolute paths as they are."""
    path = Path(model).expanduser()
    if not path.is_absolute() and path.exists():
        return str(path.absolute())
    return str(path) if model.startswith("~") else model


def _resolve_python(python: str | None) -> str:
    """This interpreter by default; a relative path from the current directory or, failing
    that, from the repository (``.venv-workers/bin/python``)."""
    if not python:
        return sys.executable
    path = Path(python).expanduser()
    if path.is_absolute() or "/" not in python:
        return str(path) if path.is_absolute() else python  # a bare name is looked up on PATH
    for base in (Path.cwd(), REPO_ROOT):
        if (base / path).exists():
            return str((base / path).absolute())
    return str(path)


class WorkerDied(RuntimeError):
    pass


class WorkerProcess:
    """One worker process and the threads draining its stdout (protocol) and stderr (log)."""

    def __init__(self, python: str, module: str, settings: dict[str, Any], name: str):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.name = name
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self.lines: queue.Queue[str | None] = queue.Queue()
        try:
            self.proc = subprocess.Popen([python, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                         env=env,
                                         cwd=str(REPO_ROOT), bufsize=1)
        except OSError as exc:
            raise SystemUnavailable(f"{name}: cannot start the worker interpreter {python!r}: {exc}") from exc
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.send(settings)

    def _drain_stdout(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip())
            log.debug("%s worker: %s", self.name, line.rstrip())

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(self._death(f"could not write to the worker ({exc})")) from None

    def receive(self, timeout_s: float | None) -> dict[str, Any]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                self.kill()
                raise WorkerDied(f"no answer within {timeout_s:.0f} s; worker killed") from None
            if line is None:
                raise WorkerDied(self._death("the worker exited"))
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                log.debug("%s worker (not protocol): %s", self.name, line.rstrip())

    def _death(self, what: str) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        time.sleep(0.05)  # let the stderr thread catch the last lines
        tail = " | ".join(list(self.stderr_tail)[-6:])
        return f"{what} (exit code {code}): {tail}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self, grace_s: float = 10.0) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()


def start_worker(python: str, module: str, settings: dict[str, Any], name: str, load_timeout_s: float,
                 install_hint: str = "") -> tuple[WorkerProcess, dict[str, Any]]:
    """Start a worker and wait for its ``ready``: (process, info), or SystemUnavailable with the
    worker's own words (and the install hint when a package is missing)."""
    try:
        worker = WorkerProcess(python, module, settings, name)
        hello = worker.receive(load_timeout_s)
    except WorkerDied as exc:
        raise SystemUnavailable(f"{name}: the worker ({python}) failed to start: {exc}. {install_hint}") from None
    if hello.get("event") != "ready":
        worker.close()
        error = redact(str(hello.get("error")))
        hint = f" {install_hint}" if error.startswith(("ImportError", "ModuleNotFoundError")) else ""
        raise SystemUnavailable(f"{name}: the worker could not load {settings['model']!r}: {error}.{hint}")
    return worker, hello["info"]


# Host-specific facts: logged when the worker starts, kept out of describe() so shards on other
# hosts (other paths, a torchaudio that imports) agree on what the system is.
HOST_SPECIFIC = ("resolved_path", "placeholder_modules", "torch_threads")


class WorkerSystem(TTSSystem):
    """Base for open-model adapters; subclasses set the worker module, install hint and the
    capabilities that follow from the worker's ``ready`` info."""

    name = "worker"
    worker_module = ""
    install_hint = ""

    def __init__(self, model: str, revision: str | None = None, python: str | None = None, device: str = "auto",
                 dtype: str | None = "auto", generation: dict[str, Any] | None = None,
                 load_timeout_s: float = 1800.0, item_timeout_s: float = 600.0, max_restarts: int = 3,
                 **worker_settings: Any):
        self.python = _resolve_python(python)
        self.settings = {"model": _resolve_model(str(model)), "revision": revision, "device": device, "dtype": dtype,
                         "generation": dict(generation or {}), **worker_settings}
        self.load_timeout_s, self.item_timeout_s = float(load_timeout_s), float(item_timeout_s)
        self.max_restarts = int(max_restarts)
        self.restarts, self._restarts_in_a_row, self._count = 0, 0, 0
        self._gave_up: str | None = None
        self.worker: WorkerProcess | None = None
        self.info = self._start(self.settings)
        self._tmp = tempfile.TemporaryDirectory(prefix=f"ztts1-{self.name}-")
        self.capabilities = self.capabilities_from(self.info)

    def capabilities_from(self, info: dict[str, Any]) -> Capabilities:
        raise NotImplementedError

    def _start(self, settings: dict[str, Any]) -> dict[str, Any]:
        self.worker = None
        self.worker, info = start_worker(self.python, self.worker_module, settings, self.name, self.load_timeout_s,
                                         self.install_hint)
        log.info("%s worker ready: %s", self.name, {k: info.get(k) for k in HOST_SPECIFIC})
        return info

    def describe(self) -> dict[str, Any]:
        info = {k: v for k, v in self.info.items() if k not in HOST_SPECIFIC}
        return {**super().describe(), "worker": self.worker_module, **info}

    def synthesize_one(self, request: SynthesisRequest) -> SynthesisResult:
        if self.worker is not None and self.worker.proc.poll() is not None:
            code = self.worker.proc.returncode
            log.warning("%s: the worker exited between items (code %s)", self.name, code)
            self._restart(f"the worker exited between items (code {code})")  # this item gets a fresh worker
        if self.worker is None:
            return SynthesisResult.failed(request.item_id, f"{self.name}: no worker: {self._gave_up}")
        self._count += 1
        out = Path(self._tmp.name) / f"{self._count}.wav"
        message = {"item_id": request.item_id, "text": request.text, "language": request.language,
                   "prompt_wav": str(request.prompt_wav) if request.prompt_wav else None,
                   "prompt_text": request.prompt_text, "seed": int(request.seed), "out": str(out)}
        start = time.perf_counter()
        try:
            try:
                self.worker.send(message)
                answer = self.worker.receive(self.item_timeout_s)
            except WorkerDied as exc:
                latency = time.perf_counter() - start
                error = redact(f"{self.name} worker: {exc}")
                self._restart(error)
                return SynthesisResult.failed(request.item_id, error, latency)
            latency = time.perf_counter() - start
            if answer.get("item_id") != request.item_id:
                error = f"{self.name} worker answered for {answer.get('item_id')!r}"
                self._restart(error)
                return SynthesisResult.failed(request.item_id, error)
            self._restarts_in_a_row = 0  # the worker is healthy, whatever this item's outcome
            if answer.get("status") != "ok":
                return SynthesisResult.failed(request.item_id, redact(f"{self.name}: {answer.get('error')}"), latency)
            samples, rate = sf.read(out, dtype="float32")
        finally:
            out.unlink(missing_ok=True)
        if int(rate) != int(answer["sample_rate"]):
            return SynthesisResult.failed(request.item_id, f"worker said {answer['sample_rate']} Hz, wrote {rate} Hz")
        return SynthesisResult(item_id=request.item_id, status="ok", samples=samples, sample_rate=int(rate),
                               latency_s=latency, meta=dict(answer.get("meta") or {}))

    def _restart(self, reason: str) -> None:
        """A fresh worker on exactly the weights of the first (the resolved hub commit), or none
        once ``max_restarts`` restarts in a row (no healthy answer between them) are spent."""
        if self.worker is not None:
            self.worker.kill()
        self.worker = None
        pinned = dict(self.settings)
        if self.info.get("resolved_commit"):
            pinned["revision"] = self.info["resolved_commit"]
        while True:
            if self._restarts_in_a_row >= self.max_restarts:
                self._gave_up = f"{self._restarts_in_a_row} restarts in a row without a healthy worker; last: {reason}"
                log.error("%s: %s; failing the remaining items", self.name, self._gave_up)
                return
            self._restarts_in_a_row += 1
            self.restarts += 1
            log.warning("%s: restarting the worker (%d in a row, at most %d) after: %s", self.name,
                        self._restarts_in_a_row, self.max_restarts, reason)
            try:
                info = self._start(pinned)
            except SystemUnavailable as exc:
                reason = str(exc)
                continue
            changed = sorted(k for k in set(info) | set(self.info) if k not in HOST_SPECIFIC and k != "revision"
                             and info.get(k) != self.info.get(k))
            if not changed:
                return
            self.worker.close()
            self.worker = None
            reason = f"the restarted worker differs from the first in {changed}"
            self._restarts_in_a_row = self.max_restarts

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        self._tmp.cleanup()
