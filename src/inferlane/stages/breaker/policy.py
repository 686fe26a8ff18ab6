"""A per-endpoint circuit breaker with the seed's keys (pure: ``now`` is monotonic seconds, passed in).

Semantics (Hystrix/resilience4j-style, counting consecutive results like Envoy's outlier detector):

* **CLOSED** — every request is admitted. ``failure_threshold`` *consecutive* failures open it; a success
  resets the count.
* **OPEN** — nothing is admitted. Once ``recovery_timeout`` has passed since it opened it reads as
  HALF_OPEN (the transition is lazy: :meth:`state` is a function of time).
* **HALF_OPEN** — a request is admitted only while fewer than ``half_open_requests`` requests are in
  flight to the endpoint, so at most that many probes are ever outstanding. ``half_open_requests``
  successes close it; any failure opens it again and restarts the timer.

Accounting: every request admitted by :meth:`try_acquire` must end with exactly one of
:meth:`on_success`, :meth:`on_failure` or :meth:`release` (no verdict, e.g. the client went away).
The breaker counts *all* admitted requests in flight, whatever state admitted them, so no slot can leak
or be freed twice when a request outlives a state change — a long stream admitted while CLOSED that
ends during HALF_OPEN takes up a probe slot until it ends, and its verdict counts like a probe's. Results
that arrive while OPEN (requests admitted before it opened) change nothing but the in-flight count: they
neither restart the timer nor count towards closing.
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
        "_in_flight",
        "_opened_at",
        "_opened_count",
        "_state",
        "_successes",
        "failure_threshold",
        "half_open_requests",
        "recovery_timeout",
    )

    def __init__(self, failure_threshold: int, recovery_timeout: float, half_open_requests: int) -> None:
        if failure_threshold < 1 or half_open_requests < 1 or recovery_timeout < 0:
            raise ValueError(
                "circuit breaker: failureThreshold and halfOpenRequests must be at least 1, "
                "recoveryTimeout cannot be negative"
            )
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_requests = half_open_requests
        self._state = BreakerState.CLOSED
        self._failures = 0  # consecutive, while CLOSED
        self._successes = 0  # while HALF_OPEN
        self._in_flight = 0  # admitted and not yet ended, in any state
        self._opened_at = 0.0
        self._opened_count = 0

    @property
    def opened_count(self) -> int:
        """How many times it has opened (a metric)."""
        return self._opened_count

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet ended."""
        return self._in_flight

    @property
    def closed(self) -> bool:
        """CLOSED (needs no clock: only ``on_success`` and ``on_failure`` enter or leave CLOSED)."""
        return self._state is BreakerState.CLOSED

    def state(self, now: float) -> BreakerState:
        if self._state is BreakerState.OPEN and now - self._opened_at >= self.recovery_timeout:
            self._state = BreakerState.HALF_OPEN
            self._successes = 0
        return self._state

    def retry_after(self, now: float) -> float:
        """Seconds until an OPEN breaker lets probes through; 0 when not OPEN."""
        if self.state(now) is not BreakerState.OPEN:
            return 0.0
        return self._opened_at + self.recovery_timeout - now

    def allows(self, now: float) -> bool:
        """Would :meth:`try_acquire` admit a request now."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and self._in_flight < self.half_open_requests

    def try_acquire(self, now: float) -> bool:
        """Admit a request (True) or refuse it; an admitted request holds a slot until it ends."""
        if not self.allows(now):
            return False
        self._in_flight += 1
        return True

    def on_success(self, now: float) -> None:
        self._end()
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures = 0
        elif state is BreakerState.HALF_OPEN:
            self._successes += 1
            if self._successes >= self.half_open_requests:
                self._state = BreakerState.CLOSED
                self._failures = 0

    def on_failure(self, now: float) -> None:
        self._end()
        state = self.state(now)
        if state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open(now)
        elif state is BreakerState.HALF_OPEN:
            self._open(now)

    def release(self, now: float) -> None:
        """An admitted request ended with no verdict: it only gives its slot back."""
        self._end()

    def _end(self) -> None:
        if self._in_flight > 0:  # tolerate a verdict for a request that was never admitted
            self._in_flight -= 1

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._successes = 0
        self._opened_count += 1
