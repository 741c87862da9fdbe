#!/usr/bin/env bash
# Build .venv-utmosv2: the environment of the optional UTMOSv2 quality scorer (scorer type
# utmosv2, systems/workers/utmosv2.py). Idempotent.
# Its own environment because the package pins numpy < 2, torch <= 2.9.1, torchvision <= 0.24.1,
# transformers < 5 and imports torchaudio: pip installs exactly its declared dependencies. PyPI's
# torch 2.9.1 is a CUDA build (about 7 GB with its NVIDIA libraries); it runs on a CPU as well.
# hyperion-utmosv2 1.3.1 is the PyPI release of sarulab-speech/UTMOSv2 1.3.1 (same code); with
# GitHub access, UTMOSV2_SPEC="utmosv2 @ git+https://github.com/sarulab-speech/UTMOSv2@<commit>" works too.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV=.venv-utmosv2
UTMOSV2_SPEC="${UTMOSV2_SPEC:-hyperion-utmosv2==1.3.1}"

if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
    echo "setup-utmosv2: creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# soundfile: the worker protocol's own dependency (systems/workers/serve.py).
"$VENV/bin/python" -m pip install -q "$UTMOSV2_SPEC" soundfile
touch "$VENV/.setup-done"
echo "setup-utmosv2: done ($("$VENV/bin/python" -c 'import importlib.metadata as m; print(*(p + "==" + m.version(p) for p in ("torch", "transformers", "numpy", "timm")))'))"
