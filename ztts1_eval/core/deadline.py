"""A wall-clock limit on in-process work (model scoring), so one pathological item is recorded
as failed and the run moves on.

Scorers run in the main thread with their models loaded in-process; a timer signal
(``SIGALRM``) raises :class:`Timeout` there. Python delivers it between bytecodes, so a model
built from many operators stops within one operator; a single long native call (one ONNX or
PocketSphinx call on a whole clip) stops when that call returns. Outside the main thread, or on a
platform without ``setitimer``, no limit is applied (said in the log).
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)


class Timeout(Exception):
    """The limit passed while the guarded block ran."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        log.debug("no time limit outside the main thread or without setitimer")
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
