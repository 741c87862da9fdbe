"""A thread-safe token bucket: at most ``rate`` requests per second on average, bursts of
``burst``. Concurrency itself is bounded by the adapter's worker pool."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate: float | None, burst: int = 1):
        self.rate, self.burst = rate, max(1, burst)
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.rate:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            time.sleep(wait)
