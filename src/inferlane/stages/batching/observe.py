"""What the batcher reports to metrics, per model (label children resolved once per queue, not per request).

``batch_size_avg`` and ``inferlane_batch_merge_ratio`` are exponential moving averages with the seed's
weight (0.05 per batch): the gauges follow the recent batches rather than the whole uptime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inferlane.observability.metrics import ProxyMetrics

EMA_WEIGHT = 0.05


class BatchObserver:
    __slots__ = (
        "_avg",
        "_batches",
        "_bisections",
        "_depth",
        "_dropped",
        "_failures",
        "_metrics",
        "_model",
        "_ratio",
        "_requests",
        "_size",
        "_wait",
        "avg_size",
        "merge_ratio",
    )

    def __init__(self, metrics: ProxyMetrics, model: str) -> None:
        self._metrics = metrics
        self._model = model
        self._size = metrics.batch_size.labels(model)
        self._avg = metrics.batch_size_avg.labels(model)
        self._depth = (
            metrics.request_queue_depth.labels(model),
            metrics.ai_request_queue_depth.labels(model),
        )
        self._batches = metrics.batch_batches.labels(model)
        self._requests = metrics.batch_requests.labels(model)
        self._wait = metrics.batch_wait.labels(model)
        self._ratio = metrics.batch_merge_ratio.labels(model)
        self._bisections = metrics.batch_bisections.labels(model)
        self._dropped: dict[str, Any] = {}
        self._failures: dict[str, Any] = {}
        self.avg_size: float | None = None
        self.merge_ratio: float | None = None

    @property
    def model(self) -> str:
        return self._model

    def queued(self, callers: int) -> None:
        for gauge in self._depth:
            gauge.inc(callers)

    def dequeued(self, callers: int) -> None:
        for gauge in self._depth:
            gauge.dec(callers)

    def dropped(self, reason: str, callers: int) -> None:
        child = self._dropped.get(reason)
        if child is None:
            child = self._dropped[reason] = self._metrics.batch_dropped.labels(self._model, reason)
        child.inc(callers)

    def batch(self, sizes: Sequence[int], waits: Sequence[float]) -> None:
        """A batch left for the upstream with these callers' item counts and queue waits."""
        items = sum(sizes)
        self._size.observe(items)
        self._batches.inc()
        self._requests.inc(len(sizes))
        for wait in waits:
            self._wait.observe(wait)
        self.avg_size = _ema(self.avg_size, items)
        self.merge_ratio = _ema(self.merge_ratio, len(sizes))
        self._avg.set(self.avg_size)
        self._ratio.set(self.merge_ratio)

    def bisection(self) -> None:
        self._bisections.inc()

    def failure(self, kind: str) -> None:
        child = self._failures.get(kind)
        if child is None:
            child = self._failures[kind] = self._metrics.batch_failures.labels(self._model, kind)
        child.inc()


def _ema(current: float | None, value: float) -> float:
    return float(value) if current is None else current + EMA_WEIGHT * (value - current)
