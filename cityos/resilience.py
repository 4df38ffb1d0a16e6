"""Retries with exponential backoff and a circuit breaker for calls to the city OS.

The breaker counts consecutive failed *calls* (after their retries). When it opens, calls fail
at once with :class:`~cityos.errors.CityOSUnavailable` for ``reset_after_s``; then one trial
call is let through (half-open): success closes the circuit, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import CityOSUnavailable


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        reset_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_after_s:
            return "half_open"
        return "open"

    def before_call(self, what: str) -> None:
        with self._lock:
            if self._state() == "open":
                wait = self.reset_after_s - (self.clock() - (self.opened_at or 0))
                raise CityOSUnavailable(
                    f"{what}: the city OS failed {self.failures} times in a row; "
                    f"not calling it for another {wait:.0f} s (circuit open)"
                )

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._state() == "half_open" or self.failures >= self.failure_threshold:
                self.opened_at = self.clock()


def backoff_delays(retries: int, base_s: float, max_s: float) -> list[float]:
    """Waits before each further attempt: base, 2×base, 4×base, ... capped at ``max_s``."""
    return [min(base_s * (2**i), max_s) for i in range(retries)]
