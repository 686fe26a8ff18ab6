"""A per-endpoint circuit breaker with the seed's keys (pure; ``now`` is passed in).

* CLOSED: every request is admitted; ``failure_threshold`` consecutive failures open it.
* OPEN: nothing is admitted until ``recovery_timeout`` has passed since it opened; then it is HALF_OPEN.
* HALF_OPEN: at most ``half_open_requests`` probes are in flight at once; ``half_open_requests``
  successes close it, any failure opens it again (and restarts the timer). A probe that ends with no
  verdict (the client went away) gives its slot back through :meth:`release`.
"""

from __future__ import annotations

import enum


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    __slots__ = (
        "_failures",
        "_opened_at",
        "_probes",
        "_state",
        "_successes",
        "failure_threshold",
        "half_open_requests",
        "opened_count",
        "recovery_timeout",
    )

    def __init__(self, failure_threshold: int, recovery_timeout: float, half_open_requests: int) -> None:
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_requests = half_open_requests
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0
        self._successes = 0
        self.opened_count = 0

    def state(self, now: float) -> BreakerState:
        if self._state is BreakerState.OPEN and now - self._opened_at >= self.recovery_timeout:
            self._state = BreakerState.HALF_OPEN
            self._probes = 0
            self._successes = 0
        return self._state

    def allows(self, now: float) -> bool:
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and self._probes < self.half_open_requests

    def try_acquire(self, now: float) -> bool:
        if not self.allows(now):
            return False
        if self._state is BreakerState.HALF_OPEN:
            self._probes += 1
        return True

    def on_success(self, now: float) -> None:
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures = 0
        elif state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._successes += 1
            if self._successes >= self.half_open_requests:
                self._state = BreakerState.CLOSED
                self._failures = 0

    def on_failure(self, now: float) -> None:
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open(now)
        elif state is BreakerState.HALF_OPEN:
            self._open(now)

    def release(self, now: float) -> None:
        if self.state(now) is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._probes = 0
        self._successes = 0
        self.opened_count += 1
