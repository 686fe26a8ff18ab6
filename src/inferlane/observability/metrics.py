"""Every metric Inferlane exports, defined in one place, on a registry owned by the app (no globals).

Live per-endpoint state (in-flight, health, breaker, ejection) is read at scrape time by a collector,
so the request path only touches counters and histograms. Names and labels: docs/metrics.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from inferlane.observability.labels import NONE, status_class
from inferlane.observability.loop_series import (
    KeyedHistograms,
    LoopCounter,
    LoopHistogram,
    ProjectedCounter,
    ProjectedHistogram,
)
from inferlane.observability.picking_metrics import SignalsCollector
from inferlane.observability.token_rate import TokenRate
from inferlane.upstream.backend import Backend
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.lease import Result

if TYPE_CHECKING:
    from inferlane.observability.observer import Observer

#: prometheus_client's default buckets (without +Inf), as the seed's router used them
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
LATENCY_MS_BUCKETS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60)
TPOT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
BATCH_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
BREAKER_STATE = {"closed": 0, "open": 1, "half_open": 2}
ROLLOUT_PHASES = ("Progressing", "Paused", "Inconclusive", "Degraded", "Healthy", "Aborted")


class ProxyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.upstream_attempts = LoopCounter(
            "inferlane_upstream_attempts_total",
            "Attempts sent to endpoints, by result (success, 5xx, local_failure, abandoned).",
            ["backend", "endpoint", "result"],
            r,
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
        self._attempt_children: dict[tuple[str, str, str], Any] = {}
        self._define_genai(r)
        self._define_routing(r)
        self._define_models(r)
        self._define_rollouts(r)
        self._define_picking(r)
        self._define_batching(r)
        self.registry.register(_SeedTokensCollector(self.tokens))
        ProcessCollector(registry=r)  # process_* (CPU, memory, fds): the sidecar's own footprint

    def _define_genai(self, r: CollectorRegistry) -> None:
        """The seed's names and the GenAI request family (fed by observability/)."""
        seed_labels = ["service", "route", "model", "version"]
        #: every finished request's duration, observed once per request by the recorder under its key
        #: (route, backend, model, version, status, token range, error kind); inferlane_requests_total,
        #: inferlane_request_duration_seconds and the four seed families below are projections of it,
        #: summed at scrape time
        self.request_latencies = KeyedHistograms(LATENCY_BUCKETS, DEFAULT_BUCKETS)
        self.requests = ProjectedCounter(
            "inferlane_requests_total",
            "Requests answered, by route, backend, HTTP status and error kind (none when upstream answered).",
            ["route", "backend", "status", "error_kind"],
            r,
            self.request_latencies,
            lambda k: ((k[0], k[1], str(k[4]), k[6] or "none"), True),
        )
        self.request_duration = ProjectedHistogram(
            "inferlane_request_duration_seconds",
            "Time from request received to response fully sent (streams included).",
            ["route", "backend"],
            r,
            LATENCY_BUCKETS,
            self.request_latencies,
            lambda k: ((k[0], k[1]), True),
        )
        self.http_requests = ProjectedCounter(
            "http_requests_total",
            "Requests answered (seed name): service is the backend, code the status class (2xx..5xx).",
            [*seed_labels, "code", "status"],
            r,
            self.request_latencies,
            lambda k: ((k[1], k[0], k[2], k[3], status_class(k[4]), str(k[4])), True),
        )
        self.http_request_duration = ProjectedHistogram(
            "http_request_duration_seconds",
            "Time from request received to response fully sent (seed name), by backend as service.",
            seed_labels,
            r,
            LATENCY_BUCKETS,
            self.request_latencies,
            lambda k: ((k[1], k[0], k[2], k[3]), True),
        )
        self.inference_latency_ms = ProjectedHistogram(
            "inference_latency_ms",
            "End-to-end latency of successful inference requests in milliseconds (seed name).",
            ["model", "version"],
            r,
            LATENCY_MS_BUCKETS,
            self.request_latencies,
            lambda k: ((k[2], k[3]), 200 <= k[4] < 300 and k[2] != NONE),
            scale=1000.0,
        )
        self.model_load_time = Gauge(
            "model_load_time_seconds",
            "Seconds from an endpoint appearing in the pool to its first successful answer.",
            ["backend", "endpoint"],
            registry=r,
        )
        genai_labels = ["route", "backend", "model", "version"]
        self.ttft = LoopHistogram(
            "inferlane_time_to_first_token_seconds",
            "Streamed generations: time from request received to the first token relayed.",
            genai_labels,
            r,
            TTFT_BUCKETS,
        )
        self.tpot = LoopHistogram(
            "inferlane_time_per_output_token_seconds",
            "Streamed generations: mean inter-token latency after the first token.",
            genai_labels,
            r,
            TPOT_BUCKETS,
        )
        self.tokens = LoopCounter(
            "inferlane_tokens_total",
            "Tokens by type (input, output, cached); estimated=true when the upstream reported no usage.",
            [*genai_labels, "type", "estimated"],
            r,
        )
        self.proxy_overhead = LoopHistogram(
            "inferlane_proxy_overhead_seconds",
            "Time spent inside Inferlane per request, excluding upstream attempts and queueing.",
            ["route"],
            r,
            OVERHEAD_BUCKETS,
        )
        self.upstream_latency = LoopHistogram(
            "inferlane_upstream_latency_seconds",
            "Per attempt: sending the request to the response headers (whole body when read at once).",
            ["backend", "endpoint"],
            r,
            LATENCY_BUCKETS,
        )
        self.tenant_requests = LoopCounter(
            "inferlane_tenant_requests_total",
            "Requests by tenant (only with metrics.tenantLabel.enabled; capped at maxValues tenants).",
            ["tenant", "code"],
            r,
        )
        self.tenant_tokens = LoopCounter(
            "inferlane_tenant_tokens_total",
            "Tokens by tenant, model and type (only with metrics.tenantLabel.enabled).",
            ["tenant", "model", "type"],
            r,
        )
        self.trace_spans = LoopCounter(
            "inferlane_trace_spans_total",
            "Trace spans by export result: exported, failed (export request failed), dropped (queue full).",
            ["result"],
            r,
        )
        #: the App's observability (request recorder, tracer); set by the composition root
        self.observer: Observer | None = None
        self.registry.register(_TokenRateCollector(self.tokens, TokenRate(60.0, time.monotonic())))

    def _define_routing(self, r: CollectorRegistry) -> None:
        """The seed router's decision metrics (names and labels as in its Go router)."""
        self.route_decisions = LoopCounter(
            "ai_router_route_decision_total",
            "Model route decisions, by token-range name (model_size, '-' without a range) and model.",
            ["model_size", "model_name"],
            r,
        )
        self.route_latency = ProjectedHistogram(
            "ai_router_request_latency_seconds",
            "Request latency (received to fully answered), by token-range name ('-' without a range).",
            ["model_size"],
            r,
            DEFAULT_BUCKETS,
            self.request_latencies,
            lambda k: None if k[0] == NONE else ((k[5],), True),
        )
        self._decision_children: dict[tuple[str, str], Any] = {}

    def _define_models(self, r: CollectorRegistry) -> None:
        """Registry split decisions, mirroring, fallbacks."""
        self.split_decisions = LoopCounter(
            "inferlane_split_decisions_total",
            "Version choices of the traffic split, by model, version and reason (sticky, random, experiment)",
            ["model", "version", "reason"],
            r,
        )
        self.mirror_requests = Counter(
            "inferlane_mirror_requests_total",
            "Shadow copies of requests, by model and result (success, error, failure, timeout, dropped).",
            ["model", "result"],
            registry=r,
        )
        self.mirror_duration = Histogram(
            "inferlane_mirror_duration_seconds",
            "Time for a mirror target to answer a shadow copy in full (the answer is discarded).",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.fallbacks = Counter(
            "inferlane_fallbacks_total",
            "Requests moved to a fallback model, by original model, fallback model and failure reason.",
            ["model", "fallback", "reason"],
            registry=r,
        )

    def _define_rollouts(self, r: CollectorRegistry) -> None:
        """Progressive rollouts (set by rollout.controller on every change)."""
        self.rollout_weight = Gauge(
            "inferlane_rollout_weight",
            "Traffic share in percent a rollout gives each version of its model now.",
            ["model", "version"],
            registry=r,
        )
        self.rollout_step = Gauge(
            "inferlane_rollout_step",
            "Index of the rollout's current step (0-based, the number of steps once complete).",
            ["model"],
            registry=r,
        )
        self.rollout_phase = Gauge(
            "inferlane_rollout_phase",
            "1 for the rollout's current phase, 0 for the others.",
            ["model", "phase"],
            registry=r,
        )
        self.rollout_rollbacks = Counter(
            "inferlane_rollout_rollbacks_total",
            "Rollouts sent back to 100% stable, by reason (the failed check, or aborted).",
            ["model", "reason"],
            registry=r,
        )
        self._rollout_versions: dict[str, set[str]] = {}

    def _define_picking(self, r: CollectorRegistry) -> None:
        """Endpoint picking and admission."""
        self.endpoint_picks = LoopCounter(
            "inferlane_endpoint_picks_total",
            "Endpoint choices by kind: sticky (prefix holder), fail_open (all saturated), scored.",
            ["backend", "endpoint", "kind"],
            r,
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

    def _define_batching(self, r: CollectorRegistry) -> None:
        """Dynamic batching."""
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

    #: distinct ``model_name`` values kept on the decision counter; later ones count as ``other``
    MAX_ROUTED_MODEL_NAMES = 200

    def route_decision(self, model_size: str, model_name: str) -> None:
        """Count one route decision; client-chosen model names are capped to bound label cardinality."""
        key = (model_size, model_name)
        child = self._decision_children.get(key)
        if child is None:
            if len(self._decision_children) >= self.MAX_ROUTED_MODEL_NAMES:
                key = (model_size, "other")
            child = self._decision_children.get(key) or self.route_decisions.labels(*key)
            self._decision_children[key] = child
        child.inc()

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        gauge = GaugeMetricFamily("inferlane_in_flight_requests", "Requests being handled by the proxy now.")
        self.registry.register(_Live(gauge, in_flight))

    def watch_backends(self, backends: Callable[[], Iterable[Backend]]) -> None:
        self.registry.register(_EndpointCollector(backends))
        self.registry.register(SignalsCollector(backends))

    def record_attempt(self, backend: str, state: EndpointState, result: Result) -> None:
        key = (backend, state.endpoint.url, result.value)  # ``authority`` would parse the URL every time
        child = self._attempt_children.get(key)
        if child is None:
            labels = (backend, state.endpoint.authority, result.value)
            child = self._attempt_children[key] = self.upstream_attempts.labels(*labels)
        child.inc()
        if self.observer is not None:
            self.observer.endpoint_result(backend, state, result)

    def show_rollout(self, model: str, weights: dict[str, int], step: int, phase: str) -> None:
        for version in self._rollout_versions.get(model, set()) - weights.keys():
            self.rollout_weight.remove(model, version)
        self._rollout_versions[model] = set(weights)
        for version, weight in weights.items():
            self.rollout_weight.labels(model, version).set(weight)
        self.rollout_step.labels(model).set(step)
        for name in ROLLOUT_PHASES:
            self.rollout_phase.labels(model, name).set(1 if name == phase else 0)

    def forget_rollout(self, model: str) -> None:
        for version in self._rollout_versions.pop(model, set()):
            self.rollout_weight.remove(model, version)
        self.rollout_step.remove(model)
        for name in ROLLOUT_PHASES:
            self.rollout_phase.remove(model, name)

    def record_pick(self, backend: str, state: EndpointState, kind: str) -> None:
        """Count one endpoint choice (label children cached: this is the hot path)."""
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


class _TokenRateCollector(Collector):
    """``model_tokens_per_second`` (seed name): output tokens per second over the last 60 s by model and
    version, from ``inferlane_tokens_total`` at scrape time (the request path does nothing for it)."""

    def __init__(self, tokens: LoopCounter, rate: TokenRate) -> None:
        self.tokens = tokens
        self.rate = rate

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "model_tokens_per_second",
            "Output tokens per second over the last 60 s, by model and version (seed name).",
            labels=["model", "version"],
        )
        totals: dict[tuple[str, str], float] = {}
        for (_, _, model, version, kind, _), value in self.tokens.items():
            if kind == "output":
                totals[(model, version)] = totals.get((model, version), 0.0) + value
        for key, value in self.rate.rates(totals, time.monotonic()).items():
            gauge.add_metric(list(key), value)
        yield gauge


class _SeedTokensCollector(Collector):
    """``ai_inference_tokens_total`` (the seed's recording-rule input): ``inferlane_tokens_total``'s input and
    output counts summed by model, at scrape time (one counter per request instead of two)."""

    def __init__(self, tokens: LoopCounter) -> None:
        self.tokens = tokens

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "ai_inference_tokens",
            "Tokens processed (seed recording-rule input), type input or output, estimates included.",
            labels=["model", "type"],
        )
        totals: dict[tuple[str, str], float] = {}
        for (_, _, model, _, kind, _), value in self.tokens.items():
            if kind != "cached":
                totals[(model, kind)] = totals.get((model, kind), 0.0) + value
        for key, value in totals.items():
            family.add_metric(list(key), value)
        yield family
