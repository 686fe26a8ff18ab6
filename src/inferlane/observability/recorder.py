"""Each finished request becomes samples of the seed's metrics and the ``inferlane_*`` GenAI family.

Label children are cached per label set, so a request costs a dict lookup and a few ``inc``/``observe``
calls. Model and tenant values pass through caps (``metrics.maxModels``, ``metrics.tenantLabel``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from inferlane.config.observability import MetricsConfig
from inferlane.observability.labels import NONE, LabelCap, status_class
from inferlane.observability.loop_series import CounterChild, HistogramChild
from inferlane.observability.metrics import ProxyMetrics
from inferlane.observability.usage import Usage

if TYPE_CHECKING:
    from inferlane.model import Endpoint
    from inferlane.pipeline.context import RequestContext

Key = tuple[str, str, str, str, int, str, str]  # route, backend, model, version, status, token range, error
TOKEN_TYPES = ("input", "output", "cached")


class _Children:
    """The label children of one (route, backend, model, version, status, token range)."""

    __slots__ = ("key", "latency", "m", "overhead", "tokens", "tpot", "ttft")

    def __init__(self, m: ProxyMetrics, key: Key) -> None:
        route, backend, model, version = key[:4]
        self.m = m
        self.key = key
        #: the one duration observation behind inferlane_requests_total and
        #: inferlane_request_duration_seconds, http_requests_total, http_request_duration_seconds,
        #: inference_latency_ms and ai_router_request_latency_seconds (metrics.py projects it)
        self.latency = m.request_latencies.child(key)
        self.ttft = m.ttft.labels(route, backend, model, version)
        self.tpot = m.tpot.labels(route, backend, model, version)
        self.overhead = m.proxy_overhead.labels(route)
        #: estimated -> (input, output, cached) children of inferlane_tokens_total
        self.tokens: dict[bool, tuple[CounterChild, ...]] = {}

    def token_children(self, estimated: bool) -> tuple[CounterChild, ...]:
        children = self.tokens.get(estimated)
        if children is None:
            route, backend, model, version = self.key[:4]
            flag = "true" if estimated else "false"
            children = self.tokens[estimated] = tuple(
                self.m.tokens.labels(route, backend, model, version, kind, flag) for kind in TOKEN_TYPES
            )
        return children


class RequestRecorder:
    def __init__(self, metrics: ProxyMetrics, clock: Callable[[], float]) -> None:
        self.m = metrics
        self.clock = clock
        self.models = LabelCap(MetricsConfig().max_models)
        self.tenants: LabelCap | None = None
        self.tenant_header = ""
        self._children: dict[Key, _Children] = {}
        self.upstream: dict[str, HistogramChild] = {}

    def configure(self, config: MetricsConfig) -> None:
        self.models.limit = config.max_models
        tenant = config.tenant_label
        if not tenant.enabled:
            self.tenants = None
        elif self.tenants is None:
            self.tenants = LabelCap(tenant.max_values)
        else:
            self.tenants.limit = tenant.max_values
        self.tenant_header = tenant.header

    def upstream_child(self, backend: str, endpoint: Endpoint) -> HistogramChild:
        """The ``inferlane_upstream_latency_seconds`` child of an endpoint, kept in :attr:`upstream` under
        the endpoint's id ("backend/host:port", one string: no key tuple)."""
        child = self.upstream[endpoint.id] = self.m.upstream_latency.labels(backend, endpoint.authority)
        return child

    def record(
        self, ctx: RequestContext | None, status: int, error_kind: str, seconds: float, usage: Usage | None
    ) -> None:
        if ctx is None:
            key: Key = (NONE, NONE, NONE, NONE, status, NONE, error_kind)
            (self._children.get(key) or self._new_children(key)).latency.observe(seconds)
            return
        obs = ctx.observation
        label = ctx.model or ctx.requested_model or (obs.model_label if obs is not None else None)
        model = label if label in self.models.kept else self.models(label)
        key = (
            ctx.route,
            ctx.backend or NONE,
            model,
            ctx.version or NONE,
            status,
            ctx.token_range,
            error_kind,
        )
        children = self._children.get(key) or self._new_children(key)
        children.latency.observe(seconds)
        if obs is not None:
            if obs.stream_started_at is not None:
                self._stream_timings(ctx, children, seconds)
            overhead = seconds - obs.upstream_s - ctx.queued_s
            children.overhead.observe(overhead if overhead > 0.0 else 0.0)
        if usage is not None:
            tokens = children.tokens.get(usage.estimated) or children.token_children(usage.estimated)
            tokens[0].value += usage.input_tokens
            if usage.output_tokens:
                tokens[1].value += usage.output_tokens
            if usage.cached_tokens:
                tokens[2].value += usage.cached_tokens
        if self.tenants is not None:
            self._tenant(ctx, status, model, usage)

    def _new_children(self, key: Key) -> _Children:
        children = self._children[key] = _Children(self.m, key)
        return children

    def _tenant(self, ctx: RequestContext, status: int, model: str, usage: Usage | None) -> None:
        assert self.tenants is not None
        tenant = self.tenants(ctx.tenant or ctx.request.headers.get(self.tenant_header))
        self.m.tenant_requests.labels(tenant, status_class(status)).inc()
        if usage is not None:
            self.m.tenant_tokens.labels(tenant, model, "input").inc(usage.input_tokens)
            self.m.tenant_tokens.labels(tenant, model, "output").inc(usage.output_tokens)

    def _stream_timings(self, ctx: RequestContext, children: _Children, seconds: float) -> None:
        obs = ctx.observation
        if obs.stream_ended_at is None:
            obs.stream_ended(ctx.started + seconds)  # the client left mid-stream: the relay ended with it
        tap = obs.tap
        if tap is None or tap.first_token_at is None:
            return
        children.ttft.observe(tap.first_token_at - ctx.started)
        tokens = ctx.usage.output_tokens if ctx.usage is not None else tap.token_events
        if tokens > 1 and obs.stream_ended_at is not None:
            children.tpot.observe((obs.stream_ended_at - tap.first_token_at) / (tokens - 1))
