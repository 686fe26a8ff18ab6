"""The batch flush rule and the adaptive wait window (pure: ages and ``now`` are seconds, passed in).

The async batcher keeps one FIFO queue per compatibility key and calls :func:`flush_decision` whenever
something changes — an item arrives, a batch completes, or the timer it set fires — and does what the
answer says. ``queued_items`` counts batch *items* (an embeddings call with 3 inputs is 3 items),
``oldest_age`` is how long the oldest queued item has waited, ``in_flight_batches`` how many batches of this
queue are at the upstream, and ``window`` the current wait window: ``settings.max_wait`` for the ``dynamic``
and ``fixed`` strategies, :meth:`AdaptiveWindow.window` for ``adaptive``.

The rules, first match wins (``n`` = queued items, ``W`` = window):

1. ``n == 0`` → :class:`Hold` (nothing to send).
2. ``in_flight_batches >= max_concurrent_batches`` → :class:`Hold`: every batch slot is busy; decide again
   when a batch completes. Items keep collecting meanwhile, even past the window.
3. ``n >= max_batch_size`` → :class:`SendNow` (``max_batch_size`` items): the batch is full.
4. ``oldest_age >= W`` → :class:`SendNow` (all ``n``): the window has passed; the batch goes as it is.
5. ``fixed`` → :class:`WaitUntil` ``W``: fixed always waits out the full window unless the batch is full;
   preferred sizes do not apply.
6. ``dynamic`` and ``adaptive``, with nothing in flight and at least ``expected_items`` queued →
   :class:`SendNow` at once: a request that arrives to an idle batcher goes out without waiting, so
   batching adds no latency when the server is idle. ``expected_items`` (default 0) is what the batcher
   expects to hold soon: the queued items plus the *returning cohort* — items whose batch was answered
   within the last window and that have not arrived again. Clients in a closed loop send their next
   request as soon as they have their answer, so right after a batch of 30 comes back, 30 arrivals are
   due within milliseconds: sending the first of them alone would occupy a one-at-a-time model server with
   a batch of 1 while the other 29 wait behind it, and the split would repeat forever (batches of 1 and
   29 alternating). Until the cohort is back — or the window passes, or the batch is full — the batcher
   collects instead. A lone client's cohort is its own single item, so at low load requests still go at
   once; the batcher passes ``oldest_age`` counted from the answer that started the cohort.
7. ``dynamic`` and ``adaptive``, not sent by rule 6 (a batch in flight and a free slot, or a cohort still
   returning), when ``n`` has reached a preferred batch size → :class:`SendNow` of that preferred size.
8. otherwise → :class:`WaitUntil` ``W``: collect while the upstream is busy.

Whenever a batch is sent before its window passed (rules 6 and 7) and ``preferred_batch_sizes`` are set,
it takes the *largest preferred size ≤ n* (Triton's rule); with no preferred size ≤ n, all ``n`` go.

``SendNow.items`` is an upper bound in items; :func:`callers_to_take` turns it into a number of whole
callers from the head of the queue (a caller is never split here: callers larger than ``max_batch_size``
are chunked by the merger before they are queued, so each fits).

Adaptive window (the seed's "adaptive batching window", fixed): the window is the time the arrival rate
needs to bring ``target_batch_size`` items, ``(target - 1) / rate``, clamped to ``[min_wait, max_wait]``.
The rate is the inverse of an exponential moving average of inter-arrival gaps (an EMA of ``1/gap`` is
dominated by near-simultaneous arrivals), and a silence longer than the average gap counts as the current
gap, so the window reacts when traffic stops. When fewer than one more arrival is expected within
``max_wait`` — or nothing is known yet — waiting cannot grow the batch and the window is ``min_wait``;
the seed waited ``max_wait`` there, adding its full delay to exactly the requests that gain nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

Strategy: TypeAlias = Literal["dynamic", "adaptive", "fixed"]
STRATEGIES: tuple[Strategy, ...] = ("dynamic", "adaptive", "fixed")


@dataclass(frozen=True, slots=True)
class BatchSettings:
    max_batch_size: int = 32
    max_wait: float = 0.05
    strategy: Strategy = "dynamic"
    max_concurrent_batches: int = 2
    preferred_batch_sizes: tuple[int, ...] = ()
    min_wait: float = 0.0
    target_batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"batching: strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}"
            )
        if self.max_batch_size < 1 or self.max_concurrent_batches < 1:
            raise ValueError("batching: maxBatchSize and maxConcurrentBatches must be at least 1")
        if not 0 <= self.min_wait <= self.max_wait:
            raise ValueError("batching: waits cannot be negative and minWait cannot exceed maxWaitTimeMs")
        sizes = tuple(sorted(set(self.preferred_batch_sizes)))
        if any(not 1 <= size <= self.max_batch_size for size in sizes):
            raise ValueError(
                f"batching: preferredBatchSizes must lie in 1..{self.max_batch_size} (maxBatchSize)"
            )
        target = self.target_batch_size
        if target is not None and not 1 <= target <= self.max_batch_size:
            raise ValueError(f"batching: targetBatchSize must lie in 1..{self.max_batch_size} (maxBatchSize)")
        object.__setattr__(self, "preferred_batch_sizes", sizes)


@dataclass(frozen=True, slots=True)
class SendNow:
    """Send a batch now, of at most ``items`` items from the head of the queue."""

    items: int


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Nothing to send yet: decide again when the oldest item reaches ``age`` (or on the next event)."""

    age: float


@dataclass(frozen=True, slots=True)
class Hold:
    """Nothing to send and no timer to set: decide again on the next arrival or batch completion."""


Flush: TypeAlias = SendNow | WaitUntil | Hold


def flush_decision(
    settings: BatchSettings,
    queued_items: int,
    oldest_age: float,
    in_flight_batches: int,
    window: float,
    expected_items: int = 0,
) -> Flush:
    """What the batcher does now; the rules are in the module docstring."""
    if queued_items <= 0 or in_flight_batches >= settings.max_concurrent_batches:
        return Hold()
    if queued_items >= settings.max_batch_size:
        return SendNow(settings.max_batch_size)
    window = max(window, 0.0)
    if oldest_age >= window:
        return SendNow(queued_items)
    if settings.strategy == "fixed":
        return WaitUntil(window)
    preferred = largest_preferred(settings.preferred_batch_sizes, queued_items)
    if in_flight_batches == 0 and queued_items >= expected_items:
        return SendNow(preferred or queued_items)
    if preferred:
        return SendNow(preferred)
    return WaitUntil(window)


def largest_preferred(preferred_sizes: Sequence[int], items: int) -> int:
    """The largest preferred batch size that ``items`` can fill; 0 when none can."""
    return max((size for size in preferred_sizes if size <= items), default=0)


def callers_to_take(sizes: Sequence[int], items: int) -> int:
    """How many whole callers (with these sizes, head of the queue first) fit in ``items``; at least one."""
    if not sizes:
        return 0
    taken, total = 1, sizes[0]
    while taken < len(sizes) and total + sizes[taken] <= items:
        total += sizes[taken]
        taken += 1
    return taken


class AdaptiveWindow:
    """The wait window of ``strategy: adaptive``; see the module docstring for the rule."""

    __slots__ = ("_gap", "_last", "max_wait", "min_wait", "smoothing", "target_batch_size")

    def __init__(
        self, min_wait: float, max_wait: float, target_batch_size: int, smoothing: float = 0.3
    ) -> None:
        if not 0 <= min_wait <= max_wait or target_batch_size < 1 or not 0 < smoothing <= 1:
            raise ValueError(
                "adaptive batching: need 0 <= minWait <= maxWait, targetBatchSize >= 1, 0 < smoothing <= 1"
            )
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.target_batch_size = target_batch_size
        self.smoothing = smoothing  # the weight of the newest gap (the seed's 0.3)
        self._last: float | None = None
        self._gap: float | None = None  # EMA of inter-arrival gaps, seconds

    @classmethod
    def from_settings(cls, settings: BatchSettings) -> AdaptiveWindow:
        target = settings.target_batch_size or settings.max_batch_size
        return cls(settings.min_wait, settings.max_wait, target)

    def observe_arrival(self, now: float) -> None:
        """One batch item arrived (call it once per item, so a 3-input call counts 3)."""
        if self._last is not None:
            gap = max(now - self._last, 0.0)
            self._gap = gap if self._gap is None else self._gap + self.smoothing * (gap - self._gap)
        self._last = now if self._last is None else max(now, self._last)

    def rate(self, now: float) -> float:
        """Estimated arrivals per second; 0 when nothing is known yet."""
        if self._gap is None or self._last is None:
            return 0.0
        gap = max(self._gap, now - self._last)
        return math.inf if gap <= 0 else 1.0 / gap

    def window(self, now: float) -> float:
        rate = self.rate(now)
        if rate * self.max_wait < 1.0:
            return self.min_wait
        wanted = (self.target_batch_size - 1) / rate
        return min(self.max_wait, max(self.min_wait, wanted))
