"""Shared plumbing for TTS engines driven as command-line programs that write a WAV file."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import soundfile as sf

from systems.base import SynthesisResult, SystemUnavailable


def require_binary(binary: str, debian_package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise SystemUnavailable(
            f"'{binary}' not found on PATH. Install the Debian package: sudo apt-get install {debian_package} "
            "(`make setup` does this)."
        )
    return path


def binary_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return " | ".join(line.strip() for line in text[:2])


def synthesize_to_wav(item_id: str, argv_with_out: list[str], timeout_s: float = 120.0) -> SynthesisResult:
    """Run ``argv_with_out`` where the literal ``{out}`` marks the output WAV path."""
    with tempfile.TemporaryDirectory(prefix="ztts1-") as tmp:
        out = Path(tmp) / "out.wav"
        argv = [arg.replace("{out}", str(out)) for arg in argv_with_out]
        start = time.perf_counter()
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return SynthesisResult.failed(item_id, f"{argv[0]} timed out after {timeout_s:.0f} s")
        latency = time.perf_counter() - start
        if proc.returncode != 0:
            return SynthesisResult.failed(item_id, f"{argv[0]} exited {proc.returncode}: {proc.stderr.strip()[:300]}", latency)
        if not out.is_file() or out.stat().st_size == 0:
            return SynthesisResult.failed(item_id, f"{argv[0]} wrote no audio", latency)
        samples, rate = sf.read(str(out), dtype="int16")
    return SynthesisResult(item_id=item_id, status="ok", samples=samples, sample_rate=int(rate), latency_s=latency)
