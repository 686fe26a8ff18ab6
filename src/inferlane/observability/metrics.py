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

from inferlane.observability.picking_metrics import SignalsCollector
from inferlane.upstream.backend import Backend
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.lease import Result

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
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
        # --- issue6: endpoint picking and admission ---
        self.endpoint_picks = Counter(
            "inferlane_endpoint_picks_total",
            "Endpoint choices by kind: sticky (prefix holder), fail_open (all saturated), scored.",
            ["backend", "endpoint", "kind"],
            registry=r,
        )
        self.admission_queue_depth = Gauge(
            "inferlane_admission_queue_depth",
            "Requests waiting in admission, per backend.",
            ["backend"],
            registry=r,
        )
        self.admission_wait = Histogram(
            "inferlane_admission_wait_seconds",
            "Time requests waited in the admission queue, by criticality and outcome (admitted, timeout, …).",
            ["backend", "criticality", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.admission_rejected = Counter(
            "inferlane_admission_rejected_total",
            "Requests refused by admission control (429/503), by criticality and reason.",
            ["backend", "criticality", "reason"],
            registry=r,
        )
        self._pick_children: dict[tuple[str, str, str], Any] = {}

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
        self.registry.register(SignalsCollector(backends))  # issue6

    def record_attempt(self, backend: str, state: EndpointState, result: Result) -> None:
        key = (backend, state.endpoint.authority, result.value)
        child = self._attempt_children.get(key)
        if child is None:
            child = self._attempt_children[key] = self.upstream_attempts.labels(*key)
        child.inc()

    def record_pick(self, backend: str, state: EndpointState, kind: str) -> None:
        """Count one endpoint choice (issue6; label children cached: this is the hot path)."""
        key = (backend, state.endpoint.authority, kind)
        child = self._pick_children.get(key)
        if child is None:
            child = self._pick_children[key] = self.endpoint_picks.labels(*key)
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
