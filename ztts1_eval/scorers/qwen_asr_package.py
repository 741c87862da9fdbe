"""The official ``qwen-asr`` package as a transcriber, run in a worker environment.

``qwen-asr`` pins ``transformers==4.57.6`` and our native scorer needs transformers 5, so the
package runs in ``.venv-workers`` (``make worker-env``) as :mod:`systems.workers.qwen_asr`,
spoken to over the same JSON-lines protocol as the open TTS models. This is the Qwen3-ASR
scorer's ``backend: qwen_asr``: the reference its native path is checked against, and the path to
take when a number must come from the package itself.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf

from ztts1_eval.scorers.base import ScorerUnavailable

WORKER_MODULE = "systems.workers.qwen_asr"
DEFAULT_PYTHON = ".venv-workers/bin/python"
PACKAGES = ("qwen-asr", "transformers", "torch")
INSTALL_HINT = "build the workers' environment with `make worker-env` (it installs qwen-asr==0.0.6), or set wer.python"
_VERSIONS = ("import importlib.metadata as m, json\n"
             "def v(p):\n    try:\n        return m.version(p)\n    except m.PackageNotFoundError:\n        return None\n"
             f"print(json.dumps({{p: v(p) for p in {PACKAGES!r}}}))")


def package_versions(python: str) -> dict[str, str | None]:
    """What the worker interpreter has installed, read without loading any model (fail fast)."""
    try:
        done = subprocess.run([python, "-c", _VERSIONS], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScorerUnavailable(f"qwen3_asr backend qwen_asr: cannot run {python!r} ({exc}); {INSTALL_HINT}") from None
    if done.returncode != 0:
        raise ScorerUnavailable(f"qwen3_asr backend qwen_asr: {python!r} failed: {done.stderr.strip()[-300:]}; "
                                f"{INSTALL_HINT}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if not found.get("qwen-asr"):
        raise ScorerUnavailable(f"qwen3_asr backend qwen_asr: qwen-asr is not installed in {python!r}; {INSTALL_HINT}")
    return found


class QwenASRPackage:
    """One worker process running ``Qwen3ASRModel.transcribe``; restarted after it dies."""

    def __init__(self, python: str, model: Path, settings: dict[str, Any], load_timeout_s: float = 1800.0,
                 batch_timeout_s: float = 1800.0):
        self.python = python
        self.settings = {"model": str(model), "revision": None, **settings}
        self.load_timeout_s, self.batch_timeout_s = load_timeout_s, batch_timeout_s
        self.info: dict[str, Any] | None = None
        self._worker = None
        self._tmp = tempfile.TemporaryDirectory(prefix="ztts1-qwen-asr-")
        self._count = 0

    def start(self) -> None:
        from systems.base import SystemUnavailable
        from systems.worker_system import start_worker

        self._worker = None
        try:
            self._worker, self.info = start_worker(self.python, WORKER_MODULE, self.settings, "qwen_asr",
                                                   self.load_timeout_s, INSTALL_HINT)
        except SystemUnavailable as exc:
            raise ScorerUnavailable(f"qwen3_asr backend qwen_asr: {exc}") from None

    def transcribe(self, audios: Sequence[np.ndarray], languages: Sequence[str | None]) -> list[dict[str, str]]:
        """16 kHz clips -> ``[{"language", "text"}]`` as the package returned them. Raises
        RuntimeError (with the worker's words) when the batch could not be transcribed."""
        from systems.worker_system import WorkerDied

        if self._worker is None or self._worker.proc.poll() is not None:
            self.start()
        self._count += 1
        paths = []
        for k, samples in enumerate(audios):
            path = Path(self._tmp.name) / f"{self._count}-{k}.wav"
            sf.write(path, np.asarray(samples, dtype=np.float32), 16000, subtype="FLOAT")  # exact, no requantizing
            paths.append(str(path))
        try:
            self._worker.send({"item_id": str(self._count), "audio": paths, "language": list(languages)})
            answer = self._worker.receive(self.batch_timeout_s)
        except WorkerDied as exc:
            self._worker = None  # the next batch starts a fresh one
            raise RuntimeError(f"the qwen-asr worker died: {exc}") from None
        except BaseException:  # interrupted mid-request (a time limit): its answer would pair with the next batch
            self.close()
            raise
        finally:
            for path in paths:
                Path(path).unlink(missing_ok=True)
        if answer.get("status") != "ok":
            raise RuntimeError(f"qwen-asr: {answer.get('error')}")
        return answer["results"]

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
