"""API keys: read from environment variables only, and kept out of every log line, exception
text and file the run writes (results, records, config snapshots)."""

from __future__ import annotations

import logging
import os
import threading

from systems.base import SystemUnavailable
from ztts1_eval.core.provenance import mask_url_credentials

MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` with every registered key replaced by *** and credentials in URLs masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_url_credentials(text)


def install_log_redaction() -> None:
    """Redact at record creation, so every handler (files, pytest's capture) sees masked text."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if _secrets or "@" in str(record.msg) or any("@" in str(a) for a in (record.args or ())):
            message = record.getMessage()
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def api_key(env_var: str, system: str) -> str:
    """The key in ``$env_var``; a system without its key cannot run (named in the message)."""
    value = os.environ.get(env_var, "").strip()
    if not value:
        raise SystemUnavailable(f"{system}: set the API key in the environment variable {env_var} "
                                f"(keys are never read from config files)")
    with _lock:
        _secrets.add(value)
        install_log_redaction()
    return value
