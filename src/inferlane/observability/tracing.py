"""OpenTelemetry traces with the GenAI semantic conventions, exported over OTLP/HTTP.

Spans are built when a request finishes, from timestamps the request path already records, and handed to
the SDK's batch processor (export happens on its worker thread, never on the event loop). During the
request only ids are chosen: the sampling decision (parent-based, then ``tracing.sampleRatio``) and one
span id per upstream attempt, sent as ``traceparent`` so the model server's spans nest under it. An
unsampled request carries no trace object at all, and with ``tracing.enabled: false`` no OTel object
exists.

Other stages can add spans to a traced request: ``if ctx.observation and ctx.observation.trace:
ctx.observation.trace.add_span("batching", start, end, {...})`` with edge-clock (monotonic) times.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from inferlane.config.observability import TracingConfig
from inferlane.observability.spans import request_spans
from inferlane.observability.traceparent import format_traceparent, parse_traceparent

if TYPE_CHECKING:
    from inferlane.pipeline.context import RequestContext

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("inferlane")


class RequestTrace:
    """The ids of one sampled request's trace, and spans other stages added."""

    __slots__ = ("extra", "parent_id", "rng", "span_id", "trace_id")

    def __init__(self, trace_id: str, span_id: str, parent_id: str | None, rng: random.Random) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.rng = rng
        self.extra: list[tuple[str, float, float, dict[str, Any]]] = []

    def new_span_id(self) -> str:
        return f"{self.rng.getrandbits(64) or 1:016x}"

    def attempt_header(self, ctx: RequestContext) -> str:
        """A span id for the next upstream attempt, propagated to it as ``traceparent``."""
        span_id = self.new_span_id()
        ctx.upstream_headers["traceparent"] = format_traceparent(self.trace_id, span_id)
        return span_id

    def add_span(self, name: str, start: float, end: float, attributes: dict[str, Any] | None = None) -> None:
        self.extra.append((name, start, end, attributes or {}))


class Tracer:
    def __init__(self, config: TracingConfig, processor: Any = None) -> None:
        self.ratio = config.sample_ratio
        self.rng = random.Random()
        self.resource = Resource.create({"service.name": config.service_name})
        self.processor = processor or BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint=config.endpoint, headers=dict(config.headers), timeout=config.export_timeout
            )
        )

    def begin(self, ctx: RequestContext) -> RequestTrace | None:
        """The request's trace when it is sampled: the caller's (``traceparent``) or a new one."""
        parent = parse_traceparent(ctx.request.headers.get("traceparent"))
        if parent is not None:
            trace_id, parent_id, flags = parent
            if not flags & 1:
                return None
        elif self.rng.random() >= self.ratio:
            return None
        else:
            trace_id, parent_id = f"{self.rng.getrandbits(128) or 1:032x}", None
        trace = RequestTrace(trace_id, "", parent_id, self.rng)
        trace.span_id = trace.new_span_id()
        return trace

    def finish(self, ctx: RequestContext, status: int, error_kind: str, seconds: float) -> None:
        obs = ctx.observation
        trace = obs.trace if obs is not None else self.begin(ctx)
        if trace is None:
            return
        for span in request_spans(self, trace, ctx, status, error_kind, seconds):
            self.processor.on_end(span)

    def span(
        self,
        trace: RequestTrace,
        name: str,
        span_id: str,
        parent_id: str | None,
        times: tuple[int, int],
        attributes: dict[str, Any],
        kind: SpanKind = SpanKind.INTERNAL,
        error: bool = False,
    ) -> ReadableSpan:
        trace_id = int(trace.trace_id, 16)
        parent = SpanContext(trace_id, int(parent_id, 16), True, _SAMPLED) if parent_id else None
        return ReadableSpan(
            name,
            context=SpanContext(trace_id, int(span_id, 16), False, _SAMPLED),
            parent=parent,
            resource=self.resource,
            attributes=attributes,
            kind=kind,
            status=Status(StatusCode.ERROR) if error else Status(StatusCode.UNSET),
            start_time=times[0],
            end_time=times[1],
            instrumentation_scope=_SCOPE,
        )

    def shutdown(self) -> None:
        """Flush and stop the exporter (blocking: call it in an executor)."""
        self.processor.shutdown()
