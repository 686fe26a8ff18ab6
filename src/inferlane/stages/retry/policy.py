"""Pure retry policy: which outcomes are retried, the backoff, ``Retry-After``, and the retry budget.

``retryOn`` conditions keep their Envoy/Istio meanings. A local-origin failure before response headers
would reach the client as a 502/503/504, so, as in Envoy, ``5xx``, ``gateway-error`` and ``reset`` also
cover every failure kind (a failed connect, a reset, an attempt that timed out):

=========================  =======================================================================
``5xx``                    any status 500-599, and every local-origin failure
``gateway-error``          502, 503, 504, and every local-origin failure
``reset``                  every local-origin failure (a failed connect is a reset before headers)
``connect-failure``        a connection that could not be opened (refused, unreachable, timed out)
``timeout``                an attempt that timed out before headers (narrower than ``reset``)
``retriable-status-codes`` the statuses in ``retriable_status_codes``
``retriable-4xx``          409
``"503"`` (any number)     that status (Istio accepts bare codes in ``retryOn``)
=========================  =======================================================================

No I/O and no clocks here: callers pass ``now`` (monotonic seconds) and a ``random.Random``.
"""

from __future__ import annotations

import enum
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime


class Failure(enum.Enum):
    """Local-origin failures, before response headers arrived."""

    CONNECT = "connect-failure"
    RESET = "reset"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: an upstream status, or a local-origin failure."""

    status: int | None = None
    failure: Failure | None = None
    #: seconds from the upstream's ``Retry-After``, if it sent one
    retry_after: float | None = None


_ALL_FAILURES = frozenset(Failure)
_FAILURES_COVERED = {
    "5xx": _ALL_FAILURES,
    "gateway-error": _ALL_FAILURES,
    "reset": _ALL_FAILURES,
    "connect-failure": frozenset({Failure.CONNECT}),
    "timeout": frozenset({Failure.TIMEOUT}),
}
_STATUSES_COVERED = {
    "5xx": frozenset(range(500, 600)),
    "gateway-error": frozenset({502, 503, 504}),
    "retriable-4xx": frozenset({409}),
}
CONDITIONS = frozenset({*_FAILURES_COVERED, *_STATUSES_COVERED, "retriable-status-codes"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    #: retries after the first try (Istio semantics); 0 disables retries
    attempts: int
    conditions: frozenset[str]
    retriable_status_codes: frozenset[int]
    base_interval: float = 0.025
    max_interval: float = 0.25
    #: derived from ``conditions``: the statuses and failure kinds that are retried
    statuses: frozenset[int] = field(init=False, repr=False, compare=False)
    failures: frozenset[Failure] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.base_interval < 0 or self.max_interval < 0:
            raise ValueError("attempts and backoff intervals cannot be negative")
        unknown = {c for c in self.conditions if c not in CONDITIONS and not _is_code(c)}
        if unknown:
            raise ValueError(f"unknown retry condition(s): {', '.join(sorted(unknown))}")
        statuses = {int(c) for c in self.conditions if _is_code(c)}
        failures: set[Failure] = set()
        for condition in self.conditions:
            statuses.update(_STATUSES_COVERED.get(condition, ()))
            failures.update(_FAILURES_COVERED.get(condition, ()))
        if "retriable-status-codes" in self.conditions:
            statuses.update(self.retriable_status_codes)
        object.__setattr__(self, "statuses", frozenset(statuses))
        object.__setattr__(self, "failures", frozenset(failures))


def _is_code(condition: str) -> bool:
    return condition.isascii() and condition.isdigit()


def is_retriable(policy: RetryPolicy, outcome: Outcome) -> bool:
    if outcome.failure is not None:
        return outcome.failure in policy.failures
    return outcome.status in policy.statuses


def should_retry(policy: RetryPolicy, retries_done: int, outcome: Outcome) -> bool:
    return retries_done < policy.attempts and is_retriable(policy, outcome)


def backoff_delay(
    policy: RetryPolicy, retries_done: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """Exponential backoff with full jitter — uniform in ``[0, min(max, base × 2^retries_done)]`` — or
    the upstream's ``Retry-After`` as given (the caller decides whether it fits the deadline)."""
    if retry_after is not None:
        return retry_after
    ceiling = min(policy.max_interval, policy.base_interval * (2.0 ** min(max(retries_done, 0), 64)))
    return rng.uniform(0.0, ceiling)


_DELTA_SECONDS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds (fractions tolerated) or an HTTP-date
    in any of its three forms, relative to ``now_epoch``. Past dates and negative numbers give 0;
    absent or unparseable values give ``None``."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" forms: HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now_epoch)


BUDGET_BUCKETS = 10


class RetryBudget:
    """Linkerd/Finagle-style retry budget: retries may be at most ``retry_ratio`` × the original requests
    seen in the window, plus ``min_retries_per_second × ttl`` always allowed (so a quiet service can still
    retry). Retries themselves earn nothing.

    The window is the current bucket and the ``BUDGET_BUCKETS - 1`` before it, buckets being
    ``ttl / BUDGET_BUCKETS`` seconds long, so it covers between 90% and 100% of ``ttl``. Buckets live in a
    fixed ring with running totals: O(1) memory, at most ``BUDGET_BUCKETS`` steps per call, O(1) amortised.
    A clock that steps backwards counts into the newest bucket.
    """

    __slots__ = (
        "_head",
        "_requests",
        "_retries",
        "_total_requests",
        "_total_retries",
        "_width",
        "floor",
        "ratio",
    )

    def __init__(self, retry_ratio: float, min_retries_per_second: float, ttl: float) -> None:
        if retry_ratio < 0 or min_retries_per_second < 0 or not ttl > 0:
            raise ValueError("retry budget: ratio and floor cannot be negative and ttl must be positive")
        self.ratio = retry_ratio
        self.floor = min_retries_per_second * ttl
        self._width = ttl / BUDGET_BUCKETS
        self._head: int | None = None
        self._requests = [0] * BUDGET_BUCKETS
        self._retries = [0] * BUDGET_BUCKETS
        self._total_requests = 0
        self._total_retries = 0

    def _advance(self, now: float) -> int:
        """Expire buckets that fell out of the window; the ring slot for ``now``."""
        index = math.floor(now / self._width)
        head = self._head
        if head is None or index - head >= BUDGET_BUCKETS:
            self._requests[:] = self._retries[:] = [0] * BUDGET_BUCKETS
            self._total_requests = self._total_retries = 0
        elif index > head:
            for step in range(head + 1, index + 1):
                slot = step % BUDGET_BUCKETS
                self._total_requests -= self._requests[slot]
                self._total_retries -= self._retries[slot]
                self._requests[slot] = self._retries[slot] = 0
        else:
            return head % BUDGET_BUCKETS
        self._head = index
        return index % BUDGET_BUCKETS

    def record_request(self, now: float) -> None:
        """Count an original (not a retry) request."""
        slot = self._advance(now)
        self._requests[slot] += 1
        self._total_requests += 1

    def remaining(self, now: float) -> int:
        """Retries the budget would allow now."""
        self._advance(now)
        return self._remaining()

    def try_spend(self, now: float) -> bool:
        """A retry wants to go: True, and it is counted, if the budget allows it."""
        slot = self._advance(now)
        if self._remaining() < 1:
            return False
        self._retries[slot] += 1
        self._total_retries += 1
        return True

    def _remaining(self) -> int:
        allowance = self.ratio * self._total_requests + self.floor + 1e-9  # 0.29 × 100 is 28.999…
        return max(0, math.floor(allowance) - self._total_retries)
