"""Every metric Inferlane exports, defined in one place, on a registry owned by the app (no globals).

Live per-endpoint state (in-flight, health, breaker, ejection) is read at scrape time by a collector,
so the request path only touches counters and histograms. Names and labels: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from inferlane.upstream.backend import Backend
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.lease import Result

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
BATCH_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
BREAKER_STATE = {"closed": 0, "open": 1, "half_open": 2}


class ProxyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "inferlane_requests_total",
            "Requests answered, by route, backend, HTTP status and error kind (none when upstream answered).",
            ["route", "backend", "status", "error_kind"],
            registry=r,
        )
        self.request_duration = Histogram(
            "inferlane_request_duration_seconds",
            "Time from request received to response fully sent (streams included).",
            ["route", "backend"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_attempts = Counter(
            "inferlane_upstream_attempts_total",
            "Attempts sent to endpoints, by result (success, 5xx, local_failure, abandoned).",
            ["backend", "endpoint", "result"],
            registry=r,
        )
        self.retries = Counter(
            "inferlane_retries_total",
            "Retries made, by route, backend and the reason (status code or failure kind).",
            ["route", "backend", "reason"],
            registry=r,
        )
        self.client_disconnects = Counter(
            "inferlane_client_disconnects_total",
            "Clients that hung up before their response was complete (the upstream call is cancelled).",
            ["route"],
            registry=r,
        )
        self.stream_errors = Counter(
            "inferlane_stream_errors_total",
            "Upstream streams that broke after the response started (client got an SSE error event).",
            ["backend", "error_kind"],
            registry=r,
        )
        self.config_reloads = Counter(
            "inferlane_config_reloads_total", "Config reload attempts, by result.", ["result"], registry=r
        )
        self.config_reload_ok = Gauge(
            "inferlane_config_last_reload_successful",
            "1 if the last config (re)load succeeded, 0 if the running config is older than the file.",
            registry=r,
        )
        self._request_children: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}
        self._attempt_children: dict[tuple[str, str, str], Any] = {}
        # --- issue7: batching ---
        self.batch_size = Histogram(
            "ai_inference_batch_size",
            "Items (inputs, rows, instances) per batch sent upstream by the batcher, by model.",
            ["model"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_size_avg = Gauge(
            "batch_size_avg",
            "Moving average of items per batch sent upstream (weight 0.05 per batch), by model.",
            ["model"],
            registry=r,
        )
        self.request_queue_depth = Gauge(
            "request_queue_depth", "Requests waiting in batch queues, by model.", ["model"], registry=r
        )
        self.ai_request_queue_depth = Gauge(
            "ai_inference_request_queue_depth",
            "Requests waiting in batch queues, by model (the seed's recording-rule input).",
            ["model"],
            registry=r,
        )
        self.batch_batches = Counter(
            "inferlane_batch_batches_total", "Batches sent upstream, by model.", ["model"], registry=r
        )
        self.batch_requests = Counter(
            "inferlane_batch_requests_total",
            "Requests (or parts of split requests) sent upstream inside batches, by model.",
            ["model"],
            registry=r,
        )
        self.batch_wait = Histogram(
            "inferlane_batch_wait_seconds",
            "Time a request waited in a batch queue before its batch was sent, by model.",
            ["model"],
            buckets=BATCH_WAIT_BUCKETS,
            registry=r,
        )
        self.batch_merge_ratio = Gauge(
            "inferlane_batch_merge_ratio",
            "Moving average of requests merged into one upstream call (weight 0.05 per batch), by model.",
            ["model"],
            registry=r,
        )
        self.batch_dropped = Counter(
            "inferlane_batch_dropped_total",
            "Requests dropped before dispatch, by model and reason (disconnect, deadline, queue_full).",
            ["model", "reason"],
            registry=r,
        )
        self.batch_bisections = Counter(
            "inferlane_batch_bisections_total",
            "Batches that failed with a 4xx and were bisected to find the bad requests, by model.",
            ["model"],
            registry=r,
        )
        self.batch_failures = Counter(
            "inferlane_batch_failures_total",
            "Batches failed for all their requests, by model and kind (mismatch, upstream, status).",
            ["model", "kind"],
            registry=r,
        )

    def observe_request(self, route: str, backend: str, status: str, error_kind: str, seconds: float) -> None:
        """Count one answered request and its duration (label children cached: this is the hot path)."""
        key = (route, backend, status, error_kind)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, backend, status, error_kind),
                self.request_duration.labels(route, backend),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        gauge = GaugeMetricFamily("inferlane_in_flight_requests", "Requests being handled by the proxy now.")
        self.registry.register(_Live(gauge, in_flight))

    def watch_backends(self, backends: Callable[[], Iterable[Backend]]) -> None:
        self.registry.register(_EndpointCollector(backends))

    def record_attempt(self, backend: str, state: EndpointState, result: Result) -> None:
        key = (backend, state.endpoint.authority, result.value)
        child = self._attempt_children.get(key)
        if child is None:
            child = self._attempt_children[key] = self.upstream_attempts.labels(*key)
        child.inc()


class _Live(Collector):
    """A gauge whose value is read from live state at scrape time."""

    def __init__(self, family: GaugeMetricFamily, read: Callable[[], int]) -> None:
        self.family = family
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(self.family.name, self.family.documentation)
        gauge.add_metric([], self.read())
        yield gauge


class _EndpointCollector(Collector):
    def __init__(self, backends: Callable[[], Iterable[Backend]]) -> None:
        self.backends = backends

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["backend", "endpoint"]
        in_flight = GaugeMetricFamily(
            "inferlane_endpoint_in_flight_requests", "Requests in flight to the endpoint.", labels=labels
        )
        healthy = GaugeMetricFamily(
            "inferlane_endpoint_healthy",
            "1 if active health checks pass (or are off), else 0.",
            labels=labels,
        )
        ejected = GaugeMetricFamily(
            "inferlane_endpoint_ejected",
            "1 if passive outlier detection ejected the endpoint.",
            labels=labels,
        )
        breaker = GaugeMetricFamily(
            "inferlane_circuit_breaker_state",
            "Circuit breaker state per endpoint: 0 closed, 1 open, 2 half-open.",
            labels=labels,
        )
        for backend in self.backends():
            pool = backend.pool
            now = pool.clock()
            for state in pool.states.values():
                key = [backend.name, state.endpoint.authority]
                in_flight.add_metric(key, state.in_flight)
                healthy.add_metric(key, 1 if state.healthy else 0)
                ejected.add_metric(key, 1 if pool.outliers.is_ejected(state.endpoint.id, now) else 0)
                if state.breaker is not None:
                    breaker.add_metric(key, BREAKER_STATE[state.breaker.state(now).value])
        yield from (in_flight, healthy, ejected, breaker)
