#!/usr/bin/env bash
# Build .venv with everything `make eval` and `make test` need, on a fresh machine.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
# CPU wheel by default (it lies on disk here). A user with CUDA sets TORCH_SPEC, e.g. "torch==2.13.0".
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
# allosaurus (GPL-3.0) is optional for users; the tests exercise it, so it is in the default set.
EXTRAS="${EXTRAS:-lite,piper,zonos2,paper,allosaurus,zhconv,scale,api,elevenlabs,cartesia,gemini,fish,inworld,dev}"

need_debs=()
command -v flite >/dev/null 2>&1 || need_debs+=(flite)
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
# Headless browser for the listening-page test (tests/test_reports.py).
command -v chromium >/dev/null 2>&1 || need_debs+=(chromium)
# How openai-whisper reads audio (CV3-Eval's ASR: whisper.load_audio runs the ffmpeg program).
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
if [ "${#need_debs[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${need_debs[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q || echo "setup: apt-get update failed; trying the install anyway"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_debs[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
    echo "setup: creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi
# setuptools in the range pyproject builds with: the plain-install test builds without isolation
.venv/bin/python -m pip install -q --upgrade pip "setuptools>=68,<81"
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    echo "setup: installing $TORCH_SPEC"
    .venv/bin/python -m pip install -q "$TORCH_SPEC"
fi
echo "setup: installing ztts1-eval[$EXTRAS]"
.venv/bin/python -m pip install -q -e ".[${EXTRAS}]"
touch .venv/.setup-done
echo "setup: done ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
