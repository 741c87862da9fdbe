"""Where the toolkit finds what ships beside its code: the Hydra configs (``conf/``) and, for the
demo, the shared samples and published numbers.

``conf/`` is the checkout's when running from a clone (editable install) and, for a plain
``pip install .``, the copy installed under ``<prefix>/share/ztts1-eval/conf`` (pyproject
``data-files``); ``ZTTS1_CONF_DIR`` points anywhere else (a lab's own configs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # ztts1_eval/core/locations.py -> the checkout
CONF_ENV = "ZTTS1_CONF_DIR"
INSTALLED_CONF = Path("share") / "ztts1-eval" / "conf"


def conf_dir() -> Path:
    """The config directory: ``$ZTTS1_CONF_DIR``, the checkout's ``conf/``, or the installed copy."""
    if os.environ.get(CONF_ENV):
        return Path(os.environ[CONF_ENV]).expanduser().resolve()
    for candidate in (REPO_ROOT / "conf", Path(sys.prefix) / INSTALLED_CONF):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no conf/ found (looked in {REPO_ROOT / 'conf'} and {Path(sys.prefix) / INSTALLED_CONF}); "
                            f"set {CONF_ENV} to a directory with config.yaml")
