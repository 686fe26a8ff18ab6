"""Counters and histograms for the event loop: no lock, no per-observation allocation.

``prometheus_client``'s metrics take a lock on every ``inc``/``observe`` (they are built for threads), which
costs ~1–4 µs each; a request records a dozen samples. Everything that records these runs on the one event
loop thread, so plain attribute updates are enough; the values become standard metric families when
Prometheus scrapes (same exposition, text and OpenMetrics). Same ``labels(...)`` API as prometheus_client.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


def le_labels(bounds: Iterable[float]) -> list[str]:
    """The ``le`` label of each bucket, as Prometheus writes bounds, and ``+Inf``."""
    return [str(floatToGoString(b)) for b in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]


class CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket (not cumulative); the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class _Series(Collector):
    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = list(labelnames)
        registry.register(self)

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        raise NotImplementedError


class LoopCounter(_Series):
    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self._children: dict[tuple[str, ...], CounterChild] = {}
        super().__init__(name, documentation, labelnames, registry)

    def labels(self, *values: str) -> CounterChild:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = CounterChild()
        return child

    def items(self) -> list[tuple[tuple[str, ...], float]]:
        """(label values, value) of every child."""
        return [(values, child.value) for values, child in self._children.items()]

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self._children.items()):
            family.add_metric(list(values), child.value)
        yield family


class LoopHistogram(_Series):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        buckets: Sequence[float],
    ) -> None:
        self.bounds = tuple(float(b) for b in buckets)
        self._le = le_labels(self.bounds)
        self._children: dict[tuple[str, ...], HistogramChild] = {}
        super().__init__(name, documentation, labelnames, registry)

    def labels(self, *values: str) -> HistogramChild:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = HistogramChild(self.bounds)
        return child

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self._children.items()):
            cumulative, buckets = 0, []
            for le, count in zip(self._le, child.counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric(list(values), buckets, child.sum)
        yield family


# --- one observation, several exported families -------------------------------------------------------

#: how a source key becomes an exported family's label values, and whether its samples count there
#: (``None``: the key has no series in that family; ``(labels, False)``: the series exists at zero)
Projection = Callable[[tuple[Any, ...]], "tuple[tuple[str, ...], bool] | None"]


class KeyedHistograms:
    """One histogram child per key over the union of several families' bounds.

    A request's duration is observed once here; each exported family (``ProjectedHistogram``,
    ``ProjectedCounter``) is a projection of these children, summed at scrape time. Exact, because each
    family's bounds are among the union's."""

    def __init__(self, *bucket_sets: Sequence[float]) -> None:
        self.bounds = tuple(sorted({float(b) for buckets in bucket_sets for b in buckets}))
        self.children: dict[tuple[Any, ...], HistogramChild] = {}

    def child(self, key: tuple[Any, ...]) -> HistogramChild:
        child = self.children.get(key)
        if child is None:
            child = self.children[key] = HistogramChild(self.bounds)
        return child

    def project(self, projection: Projection) -> dict[tuple[str, ...], tuple[list[int], float]]:
        """Bucket counts (over ``bounds`` and +Inf) and sum per projected label set."""
        out: dict[tuple[str, ...], tuple[list[int], float]] = {}
        for key, child in list(self.children.items()):
            projected = projection(key)
            if projected is None:
                continue
            labels, counted = projected
            counts, total = out.get(labels) or ([0] * (len(self.bounds) + 1), 0.0)
            if counted:
                counts = [a + b for a, b in zip(counts, child.counts, strict=True)]
                total += child.sum
            out[labels] = (counts, total)
        return out


class ProjectedHistogram(_Series):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        buckets: Sequence[float],
        source: KeyedHistograms,
        projection: Projection,
        scale: float = 1.0,
    ) -> None:
        """``buckets`` are in the exported unit: ``scale`` × the source's (e.g. 1000 for ms)."""
        self.source, self.projection, self.scale = source, projection, scale
        positions = {b * scale: i for i, b in enumerate(source.bounds)}
        try:
            #: for each exported bound, the last source bucket at or under it
            self._cut = [positions[float(b)] for b in buckets]
        except KeyError as missing:
            raise ValueError(f"{name}: bucket {missing} is not a source bound × {scale}") from None
        self._le = le_labels(buckets)
        super().__init__(name, documentation, labelnames, registry)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, (counts, total) in self.source.project(self.projection).items():
            cumulative = list(accumulate(counts))
            buckets = [(le, float(cumulative[i])) for le, i in zip(self._le, self._cut, strict=False)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric(list(labels), buckets, total * self.scale)
        yield family


class ProjectedCounter(_Series):
    """How many observations each projected label set got (a request counter from the same source)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        source: KeyedHistograms,
        projection: Projection,
    ) -> None:
        self.source, self.projection = source, projection
        super().__init__(name, documentation, labelnames, registry)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, (counts, _) in self.source.project(self.projection).items():
            family.add_metric(list(labels), float(sum(counts)))
        yield family
