"""OpenTelemetry traces with the GenAI semantic conventions, exported over OTLP/HTTP (protobuf).

Spans are built when a request finishes, from timestamps the request path already records, encoded by
:mod:`otlp` and batched by :mod:`export` (one background task). During the request only ids are chosen: the
sampling decision (parent-based, then ``tracing.sampleRatio``) and one span id per upstream attempt, sent as
``traceparent`` so the model server's spans nest under it. An unsampled request carries no trace object,
and with ``tracing.enabled: false`` no tracer exists at all.

Other stages can add spans to a traced request: ``if ctx.observation and ctx.observation.trace:
ctx.observation.trace.add_span("batching", start, end, {...})`` with edge-clock (monotonic) times.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from inferlane.config.observability import TracingConfig
from inferlane.observability.export import OtlpExporter, ResultHook
from inferlane.observability.otlp import Attributes, OtlpEncoder
from inferlane.observability.spans import SpanTemplates, request_spans
from inferlane.observability.traceparent import format_traceparent, parse_traceparent

if TYPE_CHECKING:
    from inferlane.pipeline.context import RequestContext

Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class RequestTrace:
    """The ids of one sampled request's trace, and spans other stages added."""

    __slots__ = ("extra", "head", "parent_id", "rng", "span_id", "trace_id")

    def __init__(self, trace_id: bytes, parent_id: bytes | None, rng: random.Random) -> None:
        self.trace_id = trace_id
        #: trace_id (1) and the span_id (2) tag: every span of the trace starts with these bytes
        self.head = b"\x0a\x10" + trace_id + b"\x12\x08"
        self.parent_id = parent_id
        self.rng = rng
        self.span_id = self.new_span_id()
        self.extra: list[tuple[str, float, float, Attributes]] = []

    def new_span_id(self) -> bytes:
        return (self.rng.getrandbits(64) or 1).to_bytes(8, "big")

    def attempt_header(self, ctx: RequestContext) -> bytes:
        """A span id for the next upstream attempt, propagated to it as ``traceparent``."""
        span_id = self.new_span_id()
        ctx.upstream_headers["traceparent"] = format_traceparent(self.trace_id.hex(), span_id.hex())
        return span_id

    def add_span(self, name: str, start: float, end: float, attributes: Attributes | None = None) -> None:
        self.extra.append((name, start, end, attributes or {}))


class Tracer:
    def __init__(self, config: TracingConfig, on_result: ResultHook) -> None:
        self.ratio = config.sample_ratio
        self.rng = random.Random()
        self.encoder = OtlpEncoder({"service.name": config.service_name, "telemetry.sdk.name": "inferlane"})
        self.templates = SpanTemplates(self.encoder)
        self.exporter = OtlpExporter(config, self.encoder, on_result, interval=config.export_interval)
        self._task: asyncio.Task[Any] | None = None
        self._close_timeout = config.export_timeout + 1.0

    def start(self, spawn: Spawn) -> None:
        self._task = spawn(self.exporter.run(), "otlp-export")

    async def aclose(self) -> None:
        """Send the spans still pending (bounded by the export timeout) and stop the export task."""
        self.exporter.close()
        if self._task is not None:
            with_timeout = asyncio.wait_for(asyncio.shield(self._task), self._close_timeout)
            await asyncio.gather(with_timeout, return_exceptions=True)

    def begin(self, ctx: RequestContext) -> RequestTrace | None:
        """The request's trace when it is sampled: the caller's (``traceparent``) or a new one."""
        header = ctx.request.headers.get("traceparent")
        parent = parse_traceparent(header) if header is not None else None
        if parent is None:
            return self.new_trace() if self.rng.random() < self.ratio else None
        trace_hex, parent_hex, flags = parent
        if not flags & 1:
            return None
        return RequestTrace(bytes.fromhex(trace_hex), bytes.fromhex(parent_hex), self.rng)

    def new_trace(self) -> RequestTrace:
        """A new trace (a request without ``traceparent`` that the ratio sampled)."""
        return RequestTrace((self.rng.getrandbits(128) or 1).to_bytes(16, "big"), None, self.rng)

    def finish(self, ctx: RequestContext, status: int, error_kind: str, seconds: float) -> None:
        obs = ctx.observation
        trace = obs.trace if obs is not None else self.begin(ctx)
        if trace is not None:
            self.exporter.add(request_spans(self.templates, trace, ctx, status, error_kind, seconds))
