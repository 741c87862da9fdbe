"""A scorer whose model runs in another Python environment, over the open-model workers'
JSON-lines protocol (:mod:`systems.workers.serve`).

Reference packages that pin old numpy, torch or transformers (``qwen-asr``, UTMOSv2) cannot share
our environment; their scorers start one worker process in theirs, send it one request per batch
and read one answer. A worker that dies is restarted on the next request (that batch's items
fail, the run goes on); an interrupted request closes the worker, so a late answer can never be
paired with the next request.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from ztts1_eval.scorers.base import ScorerUnavailable

_VERSIONS = ("import importlib.metadata as m, json, sys\n"
             "def v(p):\n    try:\n        return m.version(p)\n    except m.PackageNotFoundError:\n        return None\n"
             "print(json.dumps({p: v(p) for p in sys.argv[1:]}))")


def package_versions(python: str, packages: tuple[str, ...], scorer: str, hint: str) -> dict[str, str | None]:
    """What ``python`` has installed, read without loading any model (so a scorer fails fast)."""
    try:
        done = subprocess.run([python, "-c", _VERSIONS, *packages], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScorerUnavailable(f"{scorer}: cannot run {python!r} ({exc}); {hint}") from None
    if done.returncode != 0:
        raise ScorerUnavailable(f"{scorer}: {python!r} failed: {done.stderr.strip()[-300:]}; {hint}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class WorkerClient:
    """One worker process running ``module`` with ``settings``; started on first use."""

    def __init__(self, python: str, module: str, settings: dict[str, Any], scorer: str, hint: str,
                 load_timeout_s: float = 1800.0, request_timeout_s: float = 1800.0):
        self.python, self.module, self.settings = python, module, settings
        self.scorer, self.hint = scorer, hint
        self.load_timeout_s, self.request_timeout_s = load_timeout_s, request_timeout_s
        self.info: dict[str, Any] | None = None
        self._worker = None
        self._count = 0

    def start(self) -> None:
        """Start the worker and wait until its model is loaded; ScorerUnavailable with the
        worker's own words when it cannot load."""
        from systems.base import SystemUnavailable
        from systems.worker_system import start_worker

        self._worker = None
        try:
            self._worker, self.info = start_worker(self.python, self.module, self.settings, self.scorer,
                                                   self.load_timeout_s, self.hint)
        except SystemUnavailable as exc:
            raise ScorerUnavailable(str(exc)) from None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request, return the worker's answer fields; RuntimeError (with the worker's
        words) when it refused or died."""
        from systems.worker_system import WorkerDied

        if self._worker is None or self._worker.proc.poll() is not None:
            self.start()
        self._count += 1
        try:
            self._worker.send({"item_id": str(self._count), **request})
            answer = self._worker.receive(self.request_timeout_s)
        except WorkerDied as exc:
            self._worker = None  # the next request starts a fresh one
            raise RuntimeError(f"the {self.scorer} worker died: {exc}") from None
        except BaseException:  # interrupted mid-request (a time limit): its answer would pair with the next
            self.close()
            raise
        if answer.get("status") != "ok":
            raise RuntimeError(f"{self.scorer}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
