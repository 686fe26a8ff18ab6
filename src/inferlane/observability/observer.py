"""The App's observer of requests: metrics recorder, tracer and endpoint load times, in one place.

Wired by the composition root: the edge calls :meth:`Observer.finished` for every finished request, the
``metrics`` interceptor (accounting stage) calls :meth:`begin` when a request reaches the interceptors, and
backends report their endpoints' first successful answer for ``model_load_time_seconds``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from inferlane.config.schema import ProxyConfig
from inferlane.observability.metrics import ProxyMetrics
from inferlane.observability.observation import Observation
from inferlane.observability.recorder import RequestRecorder
from inferlane.observability.usage import Usage, estimate_prompt_tokens
from inferlane.upstream.lease import Result

if TYPE_CHECKING:
    from inferlane.observability.tracing import Tracer
    from inferlane.pipeline.context import RequestContext
    from inferlane.upstream.backend import Backend
    from inferlane.upstream.endpoint_state import EndpointState


class Observer:
    def __init__(
        self, metrics: ProxyMetrics, clock: Callable[[], float], tracer: Tracer | None = None
    ) -> None:
        self.metrics = metrics
        self.clock = clock
        self.tracer = tracer
        self.recorder = RequestRecorder(metrics, clock)
        self._appeared: dict[str, float] = {}
        self._loaded: set[str] = set()
        metrics.observer = self

    def configure(self, config: ProxyConfig) -> None:
        self.recorder.configure(config.metrics)

    def begin(self, ctx: RequestContext) -> Observation:
        tracer, trace = self.tracer, None
        if tracer is not None:  # the usual request: no traceparent, and not sampled (no call for it)
            if "traceparent" in ctx.request.headers:
                trace = tracer.begin(ctx)
            elif tracer.rng.random() < tracer.ratio:
                trace = tracer.new_trace()
        obs = Observation(self, self.clock(), trace)
        ctx.observation = obs
        return obs

    def finished(self, ctx: RequestContext | None, status: int, error_kind: str, seconds: float) -> None:
        """The edge's finished-request hook: settle the usage, record metrics, export the trace."""
        usage = None
        if ctx is not None:
            usage = ctx.usage
            if type(usage) is not Usage:  # not reported (or not a Usage): estimated where that applies
                usage = settle_usage(ctx, status)
        self.recorder.record(ctx, status, error_kind, seconds, usage)
        if self.tracer is not None and ctx is not None:
            obs = ctx.observation
            if obs is None or obs.trace is not None:  # (not observed: answered by a decide stage)
                self.tracer.finish(ctx, status, error_kind, seconds)

    # --- model_load_time_seconds ---------------------------------------------------------------------

    def watch_backend(self, backend: Backend) -> None:
        """A new backend's endpoints appeared now; their first successful answer sets the load time."""
        now = self.clock()
        for endpoint_id in backend.pool.states:
            self._appeared.setdefault(endpoint_id, now)
        name = backend.name
        backend.health.on_ok = lambda state: self.endpoint_answered(name, state)

    def endpoint_result(self, backend: str, state: EndpointState, result: Result) -> None:
        if result is Result.SUCCESS:
            self.endpoint_answered(backend, state)

    def endpoint_answered(self, backend: str, state: EndpointState) -> None:
        endpoint_id = state.endpoint.id
        if endpoint_id in self._loaded:
            return
        appeared = self._appeared.get(endpoint_id)
        if appeared is None:
            return
        self._loaded.add(endpoint_id)
        seconds = self.clock() - appeared
        self.metrics.model_load_time.labels(backend, state.endpoint.authority).set(seconds)


def settle_usage(ctx: RequestContext, status: int) -> Usage | None:
    """The request's token usage: reported by the upstream, or estimated for a generation stream that
    brought none (an engine without usage, a cut stream, a client that left)."""
    usage = ctx.usage
    if usage is not None:
        return usage if isinstance(usage, Usage) else None
    obs = ctx.observation
    if obs is None or obs.stream_started_at is None or not obs.generation:
        return None
    if not (200 <= status < 300 or status == 499):
        return None
    output = obs.tap.token_events if obs.tap is not None else 0
    prompt = ctx.prompt_tokens if ctx.prompt_tokens is not None else estimate_prompt_tokens(ctx.json)
    usage = ctx.usage = Usage(prompt, output, 0, estimated=True)
    return usage
