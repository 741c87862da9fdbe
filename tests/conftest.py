"""Shared fixtures. Real audio comes from shared/samples (or $ZTTS1_DATA_ROOT); it is read in
place, and any synthetic audio a test needs is written to a temporary directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ztts1_eval.pipeline.benchmark import DATA_ROOT_ENV, data_root  # noqa: E402

SAMPLES = data_root({})


def pytest_configure(config):
    if not (SAMPLES / "samples.tsv").is_file():
        raise pytest.UsageError(
            f"test audio not found at {SAMPLES}: put the shared samples there or set {DATA_ROOT_ENV}")


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


def _environment_python(venv: str, make_target: str) -> str:
    """The interpreter of one of the worker environments, or a failure saying how to build it
    (a skip only when ZTTS1_SKIP_WORKER_TESTS=1 says so)."""
    python = REPO / venv / "bin" / "python"
    if not python.exists():
        if os.environ.get("ZTTS1_SKIP_WORKER_TESTS") == "1":
            pytest.skip(f"ZTTS1_SKIP_WORKER_TESTS=1 and no {venv}")
        pytest.fail(f"these tests need {venv}: run `make {make_target}` "
                    "(or set ZTTS1_SKIP_WORKER_TESTS=1 to skip them knowingly)")
    return str(python)


@pytest.fixture(scope="session")
def worker_python() -> str:
    """The workers' environment (.venv-workers): open TTS models and the qwen-asr package."""
    return _environment_python(".venv-workers", "worker-env")


@pytest.fixture(scope="session")
def utmosv2_python() -> str:
    """UTMOSv2's own environment (.venv-utmosv2)."""
    return _environment_python(".venv-utmosv2", "scorer-env")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One score cache for tests that do not test caching itself (saves minutes)."""
    return tmp_path_factory.mktemp("score-cache")


def write_tone(path: Path, seconds: float = 1.0, rate: int = 16000, amplitude: float = 0.3) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    return path


def make_config(overrides: list[str]) -> dict:
    """The resolved Hydra config exactly as `ztts1-eval eval` would build it."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "conf")):
        cfg = compose(config_name="config", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    yield
