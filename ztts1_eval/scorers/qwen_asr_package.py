"""The official ``qwen-asr`` package as a transcriber, run in a worker environment.

``qwen-asr`` pins ``transformers==4.57.6`` and our native scorer needs transformers 5, so the
package runs in ``.venv-workers`` (``make worker-env``) as :mod:`systems.workers.qwen_asr`,
through :class:`~ztts1_eval.scorers.worker_client.WorkerClient`. This is the Qwen3-ASR scorer's
``backend: qwen_asr``: the reference its native path is checked against, and the path to take
when a number must come from the package itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf

from ztts1_eval.scorers.base import ScorerUnavailable
from ztts1_eval.scorers.worker_client import WorkerClient, package_versions as _package_versions

WORKER_MODULE = "systems.workers.qwen_asr"
DEFAULT_PYTHON = ".venv-workers/bin/python"
PACKAGES = ("qwen-asr", "transformers", "torch")
INSTALL_HINT = "build the workers' environment with `make worker-env` (it installs qwen-asr==0.0.6), or set wer.python"
SCORER = "qwen3_asr backend qwen_asr"


def package_versions(python: str) -> dict[str, str | None]:
    """What the worker interpreter has installed, read without loading any model (fail fast)."""
    found = _package_versions(python, PACKAGES, SCORER, INSTALL_HINT)
    if not found.get("qwen-asr"):
        raise ScorerUnavailable(f"{SCORER}: qwen-asr is not installed in {python!r}; {INSTALL_HINT}")
    return found


class QwenASRPackage:
    """One worker process running ``Qwen3ASRModel.transcribe``; restarted after it dies."""

    def __init__(self, python: str, model: Path, settings: dict[str, Any], load_timeout_s: float = 1800.0,
                 batch_timeout_s: float = 1800.0):
        self.client = WorkerClient(python, WORKER_MODULE, {"model": str(model), "revision": None, **settings},
                                   SCORER, INSTALL_HINT, load_timeout_s, batch_timeout_s)
        self._tmp = tempfile.TemporaryDirectory(prefix="ztts1-qwen-asr-")
        self._count = 0

    @property
    def info(self) -> dict[str, Any] | None:
        return self.client.info

    def start(self) -> None:
        self.client.start()

    def transcribe(self, audios: Sequence[np.ndarray], languages: Sequence[str | None]) -> list[dict[str, str]]:
        """16 kHz clips -> ``[{"language", "text"}]`` as the package returned them. Raises
        RuntimeError (with the worker's words) when the batch could not be transcribed."""
        self._count += 1
        paths = []
        for k, samples in enumerate(audios):
            path = Path(self._tmp.name) / f"{self._count}-{k}.wav"
            sf.write(path, np.asarray(samples, dtype=np.float32), 16000, subtype="FLOAT")  # exact, no requantizing
            paths.append(str(path))
        try:
            return self.client.ask({"audio": paths, "language": list(languages)})["results"]
        finally:
            for path in paths:
                Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        self.client.close()
