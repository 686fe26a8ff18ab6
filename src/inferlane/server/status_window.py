"""What the status page remembers about recent traffic: per-second request/error counts with a coarse
latency histogram, and a bounded ring of recent errors. Pure: the caller passes ``now`` (wall seconds).

Recording a success is an append (folded once per second), so it can sit on every finished request.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: upper bounds (ms) of the per-second latency buckets; the last bucket is open-ended
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000)
_LATENCY_BOUNDS_S = tuple(b / 1000 for b in LATENCY_BOUNDS_MS)


@dataclass(slots=True)
class _Second:
    t: int
    requests: int = 0
    errors: int = 0
    total_ms: float = 0.0
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))


def quantile_ms(counts: list[int], q: float) -> float | None:
    """The ``q`` quantile of a bucketed latency sample, interpolated inside its bucket (like PromQL's
    ``histogram_quantile``); ``None`` for an empty sample. The open last bucket reports its lower bound."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index == len(LATENCY_BOUNDS_MS):
                return float(LATENCY_BOUNDS_MS[-1])
            low = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
            high = LATENCY_BOUNDS_MS[index]
            return low + (high - low) * (rank - seen) / count
        seen += count
    return float(LATENCY_BOUNDS_MS[-1])  # pragma: no cover - rank <= total always lands above


class TrafficWindow:
    """Requests, errors and latency per whole second over the last ``seconds`` seconds.

    Successful requests (``add_ok``, every request's path) are only appended to the open second's list;
    the list is folded into the second's counts in one sorted pass when the second changes or someone
    reads the window, which costs a fraction of bucketing each request on its own."""

    def __init__(self, seconds: int = 120) -> None:
        if seconds < 1:
            raise ValueError("the traffic window needs at least one second")
        self.seconds = seconds
        self._ring: list[_Second | None] = [None] * seconds
        self._total_requests = 0
        self.total_errors = 0
        #: the open second and the durations (seconds) of its successful requests, not yet folded
        self._open_t = -1
        self._open: list[float] = []

    @property
    def total_requests(self) -> int:
        return self._total_requests + len(self._open)

    def add_ok(self, now: float, seconds: float) -> None:
        """A successful request ended at ``now`` after ``seconds`` (the hot path: an append)."""
        t = int(now)
        if t != self._open_t:
            self._fold()
            self._open_t = t
        self._open.append(seconds)

    def add(self, now: float, seconds: float, error: bool) -> None:
        self._fold()
        slot = self._slot(int(now))
        ms = seconds * 1000.0
        slot.requests += 1
        slot.total_ms += ms
        slot.counts[bisect_left(LATENCY_BOUNDS_MS, ms)] += 1
        self._total_requests += 1
        if error:
            slot.errors += 1
            self.total_errors += 1

    def _slot(self, t: int) -> _Second:
        slot = self._ring[t % self.seconds]
        if slot is None or slot.t != t:
            slot = self._ring[t % self.seconds] = _Second(t)
        return slot

    def _fold(self) -> None:
        values = self._open
        if not values:
            return
        self._open = []
        values.sort()
        slot = self._slot(self._open_t)
        slot.requests += len(values)
        slot.total_ms += sum(values) * 1000.0
        counts, below = slot.counts, 0
        for i, bound in enumerate(_LATENCY_BOUNDS_S):
            upto = bisect_right(values, bound, below)  # values ≤ bound, as add() buckets them
            counts[i] += upto - below
            below = upto
        counts[-1] += len(values) - below
        self._total_requests += len(values)

    def samples(self, now: float) -> list[dict[str, Any]]:
        """One sample per completed second, oldest first (the running second is left out so the last
        point is never a partial one)."""
        self._fold()
        end = int(now)
        out: list[dict[str, Any]] = []
        for t in range(end - self.seconds + 1, end):
            slot = self._ring[t % self.seconds]
            if slot is None or slot.t != t:
                out.append(
                    {"t": t, "requests": 0, "errors": 0, "avg_ms": None, "p50_ms": None, "p95_ms": None}
                )
                continue
            out.append(
                {
                    "t": t,
                    "requests": slot.requests,
                    "errors": slot.errors,
                    "avg_ms": round(slot.total_ms / slot.requests, 3),
                    "p50_ms": _round(quantile_ms(slot.counts, 0.5)),
                    "p95_ms": _round(quantile_ms(slot.counts, 0.95)),
                }
            )
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(frozen=True, slots=True)
class RecentError:
    """One failed request as the status page shows it: where it went and how it failed, never its body."""

    at: float
    request_id: str
    route: str
    model: str
    backend: str
    endpoint: str
    status: int
    error_kind: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "request_id": self.request_id,
            "route": self.route,
            "model": self.model,
            "backend": self.backend,
            "endpoint": self.endpoint,
            "status": self.status,
            "error_kind": self.error_kind,
            "seconds": round(self.seconds, 4),
        }


class ErrorRing:
    """The last ``size`` errors, newest first when listed."""

    def __init__(self, size: int = 50) -> None:
        self._items: deque[RecentError] = deque(maxlen=size)

    def add(self, error: RecentError) -> None:
        self._items.append(error)

    def newest_first(self) -> list[dict[str, Any]]:
        return [item.as_dict() for item in reversed(self._items)]


def is_failure(status: int, error_kind: str = "") -> bool:
    """Counted as an error on the page: a 5xx, whether the upstream answered it or the proxy failed the
    request (timeouts, open breakers, connect errors are all 5xx), a stream that broke after its 200 went
    out, or no status at all. Client errors (4xx, 429 shedding, hang-ups) are listed but not counted, like
    the Prometheus error-ratio rules."""
    broken_stream = status < 400 and error_kind not in ("", "none")
    return status >= 500 or status == 0 or broken_stream


def is_listed(status: int, error_kind: str) -> bool:
    """Shown in the recent-errors list: every failure plus client errors (4xx, hang-ups)."""
    return status >= 400 or is_failure(status, error_kind)
