"""Loop counters and histograms expose exactly what prometheus_client's own would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics

from inferlane.observability.loop_series import LoopCounter, LoopHistogram

BUCKETS = (0.1, 0.5, 1, 5)
VALUES = [0.05, 0.1, 0.3, 0.5, 0.7, 1, 2, 10, 10]


def test_same_exposition_as_prometheus_client():
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    counter = LoopCounter("jobs_total", "Jobs.", ["kind"], ours)
    histogram = LoopHistogram("wait_seconds", "Wait.", ["kind"], ours, BUCKETS)
    ref_counter = Counter("jobs_total", "Jobs.", ["kind"], registry=theirs)
    ref_histogram = Histogram("wait_seconds", "Wait.", ["kind"], registry=theirs, buckets=BUCKETS)
    for value in VALUES:
        for kind in ("a", "b"):
            counter.labels(kind).inc(2)
            ref_counter.labels(kind).inc(2)
            histogram.labels(kind).observe(value)
            ref_histogram.labels(kind).observe(value)

    def lines(registry):
        text = generate_latest(registry).decode()
        return sorted(
            line for line in text.splitlines() if not line.startswith("#") and "_created" not in line
        )

    assert lines(ours) == lines(theirs)
    assert b"# TYPE wait_seconds histogram" in openmetrics(ours)
    assert b'jobs_total{kind="a"} 18.0' in openmetrics(ours)


def test_families_are_listed_before_any_sample():
    registry = CollectorRegistry()
    LoopCounter("x_total", "X.", ["a"], registry)
    LoopHistogram("y_seconds", "Y.", [], registry, BUCKETS)
    assert {f.name for f in registry.collect()} == {"x", "y_seconds"}
