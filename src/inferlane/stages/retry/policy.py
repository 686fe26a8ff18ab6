"""Pure retry policy: which outcomes are retried (Envoy/Istio ``retryOn`` meanings), the backoff, the
``Retry-After`` header, and a Linkerd-style retry budget. No I/O, no clocks: callers pass ``now``."""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


class Failure(enum.Enum):
    """Local-origin failures, before response headers arrived."""

    CONNECT = "connect-failure"
    RESET = "reset"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None = None
    failure: Failure | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    #: retries after the first try (Istio semantics); 0 disables retries
    attempts: int
    conditions: frozenset[str]
    retriable_status_codes: frozenset[int]
    base_interval: float = 0.025
    max_interval: float = 0.25


_GATEWAY_ERRORS = frozenset({502, 503, 504})


def is_retriable(policy: RetryPolicy, outcome: Outcome) -> bool:
    conditions = policy.conditions
    if outcome.failure is not None:
        return outcome.failure.value in conditions
    status = outcome.status
    if status is None:
        return False
    if "5xx" in conditions and 500 <= status <= 599:
        return True
    if "gateway-error" in conditions and status in _GATEWAY_ERRORS:
        return True
    return "retriable-status-codes" in conditions and status in policy.retriable_status_codes


def should_retry(policy: RetryPolicy, retries_done: int, outcome: Outcome) -> bool:
    return retries_done < policy.attempts and is_retriable(policy, outcome)


def backoff_delay(
    policy: RetryPolicy, retries_done: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """Exponential backoff with full jitter, or the upstream's ``Retry-After`` when it gave one."""
    if retry_after is not None:
        return retry_after
    ceiling = min(policy.max_interval, policy.base_interval * (2 ** min(retries_done, 30)))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP-date); ``None`` if absent or garbage."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


class RetryBudget:
    """Retries may be at most ``retry_ratio`` of the requests seen in the last ``ttl`` seconds, plus
    ``min_retries_per_second × ttl`` always allowed (so low-traffic services can still retry).

    Counts live in one-second buckets in a ring covering ``ttl``: O(1) per call, bounded memory.
    """

    __slots__ = ("_buckets", "_requests", "_retries", "floor", "ratio", "size")

    def __init__(self, retry_ratio: float, min_retries_per_second: float, ttl: float) -> None:
        self.ratio = retry_ratio
        self.size = max(1, math.ceil(ttl))
        self.floor = min_retries_per_second * self.size
        self._buckets: list[int] = [-1] * self.size
        self._requests: list[int] = [0] * self.size
        self._retries: list[int] = [0] * self.size

    def _slot(self, now: float) -> int:
        second = int(now)
        slot = second % self.size
        if self._buckets[slot] != second:
            self._buckets[slot] = second
            self._requests[slot] = 0
            self._retries[slot] = 0
        return slot

    def _totals(self, now: float) -> tuple[int, int]:
        oldest = int(now) - self.size + 1
        requests = retries = 0
        for i, second in enumerate(self._buckets):
            if second >= oldest:
                requests += self._requests[i]
                retries += self._retries[i]
        return requests, retries

    def record_request(self, now: float) -> None:
        self._requests[self._slot(now)] += 1

    def try_spend(self, now: float) -> bool:
        slot = self._slot(now)
        requests, retries = self._totals(now)
        if retries + 1 > self.ratio * requests + self.floor:
            return False
        self._retries[slot] += 1
        return True
