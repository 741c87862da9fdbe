"""Retries with exponential backoff and jitter on rate limits (429), server errors (5xx) and
timeouts, bounded per request (``max_attempts``) and per run (``budget``: retries left for the
whole system), so an outage fails items quickly instead of hammering the provider."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


class ProviderError(RuntimeError):
    """A provider call that failed; ``retryable`` for 429 / 5xx / timeouts / connection errors."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False,
                 retry_after_s: float | None = None):
        super().__init__(message)
        self.status, self.retryable, self.retry_after_s = status, retryable, retry_after_s


def classify_status(status: int) -> bool:
    return status == 429 or status >= 500


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    budget: int = 200  # retries for the whole run

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._spent = 0
        self._random = random.Random()

    @property
    def retries_spent(self) -> int:
        return self._spent

    def _take(self) -> bool:
        with self._lock:
            if self._spent >= self.budget:
                return False
            self._spent += 1
            return True

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self.max_delay_s)
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** attempt)
        return backoff * self._random.uniform(0.5, 1.0)  # jitter: spread concurrent retries

    def call(self, fn: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
        """``fn()`` and the number of attempts it took; raises the last ProviderError, with the
        attempts and whether the run's retry budget ran out in its message."""
        attempt = 0
        while True:
            try:
                return fn(), attempt + 1
            except ProviderError as exc:
                attempt += 1
                if not exc.retryable:
                    raise
                if attempt >= self.max_attempts:
                    raise ProviderError(f"gave up after {attempt} attempts: {exc}", exc.status) from exc
                if not self._take():
                    raise ProviderError(f"retry budget of {self.budget} for this run exhausted after "
                                        f"{attempt} attempt(s): {exc}", exc.status) from exc
                sleep(self.delay(attempt - 1, exc.retry_after_s))
