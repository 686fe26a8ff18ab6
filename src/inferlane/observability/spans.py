"""The spans of one finished, sampled request, built from what the request path recorded.

Root: a SERVER span ``{gen_ai.operation.name} {gen_ai.request.model}`` (or ``{method} {route}``) with the
GenAI attributes; children: ``route`` (decide stages), ``queue`` (admission/batching wait), spans other
stages added, and one CLIENT span ``{method} {host:port}`` per upstream attempt (its id was sent upstream as
``traceparent``), with the GenAI request attributes too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from inferlane.observability.otlp import KIND_CLIENT, KIND_INTERNAL, KIND_SERVER, OtlpEncoder
from inferlane.observability.usage import Usage

if TYPE_CHECKING:
    from inferlane.observability.tracing import RequestTrace
    from inferlane.pipeline.context import RequestContext

_REQUEST_PARAMETERS = (
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("max_completion_tokens", "gen_ai.request.max_tokens"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
)
_OPERATIONS = (
    ("/chat/completions", "chat"),
    ("/completions", "text_completion"),
    ("/embeddings", "embeddings"),
)


def operation_of(path: str) -> str | None:
    """``gen_ai.operation.name`` of an OpenAI-style path."""
    for suffix, name in _OPERATIONS:
        if path.endswith(suffix):
            return name
    return None


def request_spans(
    encoder: OtlpEncoder,
    trace: RequestTrace,
    ctx: RequestContext,
    status: int,
    error_kind: str,
    seconds: float,
) -> Iterator[bytes]:
    """The encoded spans of one finished request."""
    offset = ctx.request.received_at - ctx.started

    def ns(t: float) -> int:
        return int((t + offset) * 1e9)

    trace_id, root_id = trace.trace_id, trace.span_id

    def child(name: str, start: float, end: float, attrs: dict[str, Any]) -> bytes:
        span_id = trace.new_span_id()
        return encoder.span(trace_id, span_id, root_id, name, KIND_INTERNAL, ns(start), ns(end), attrs)

    operation = operation_of(ctx.request.path)
    attributes = _root_attributes(ctx, operation, status, error_kind)
    obs = ctx.observation
    if obs is not None and obs.tap is not None and obs.tap.first_token_at is not None:
        attributes["gen_ai.server.time_to_first_token"] = obs.tap.first_token_at - ctx.started
    name = f"{operation} {ctx.requested_model}" if operation and ctx.requested_model else None
    yield encoder.span(
        trace_id,
        root_id,
        trace.parent_id,
        name or f"{ctx.request.method} {ctx.route}",
        KIND_SERVER,
        ns(ctx.started),
        ns(ctx.started + seconds),
        attributes,
        error=status >= 500 or bool(error_kind),
        # the request id is unique: encoded apart, so it never churns the encoder's attribute caches
        block=_root_block(encoder, ctx, operation)
        + encoder.attribute("inferlane.request_id", ctx.request_id),
    )
    if obs is None:
        return
    yield child("route", ctx.started, obs.decided_at, {})
    if ctx.queued_s > 0:
        until = obs.attempts[0].start if obs.attempts else obs.decided_at
        yield child("queue", until - ctx.queued_s, until, {"inferlane.queued_s": ctx.queued_s})
    for span_name, start, stop, extra in trace.extra:
        yield child(span_name, start, stop, dict(extra))
    yield from _attempt_spans(encoder, trace, ctx, operation, ns)


def _attempt_spans(
    encoder: OtlpEncoder,
    trace: RequestTrace,
    ctx: RequestContext,
    operation: str | None,
    ns: Callable[[float], int],
) -> Iterator[bytes]:
    """One CLIENT span per upstream attempt; the last one lasts until its stream ended."""
    obs = ctx.observation
    last = len(obs.attempts) - 1
    for i, attempt in enumerate(obs.attempts):
        stop = obs.stream_ended_at if i == last and obs.stream_ended_at is not None else attempt.end
        dynamic: dict[str, Any] = {"inferlane.attempt": i + 1}
        if attempt.status:
            dynamic["http.response.status_code"] = attempt.status
        if attempt.error_kind:
            dynamic["error.type"] = attempt.error_kind
        authority = attempt.endpoint.authority
        yield encoder.span(
            trace.trace_id,
            attempt.span_id or trace.new_span_id(),
            trace.span_id,
            f"{ctx.request.method} {authority}",
            KIND_CLIENT,
            ns(attempt.start),
            ns(stop),
            dynamic,
            attempt.status >= 500 or bool(attempt.error_kind),
            _attempt_block(encoder, ctx, attempt.endpoint.backend, authority, operation),
        )


def _attempt_block(
    encoder: OtlpEncoder, ctx: RequestContext, backend: str, authority: str, operation: str | None
) -> bytes:
    key = ("attempt", backend, authority, operation, ctx.model)
    block = encoder.cached_block(key)
    if block is None:
        block = encoder.store_block(key, _attempt_static(ctx, backend, authority, operation))
    return block


def _root_block(encoder: OtlpEncoder, ctx: RequestContext, operation: str | None) -> bytes:
    request = ctx.request
    key = (
        request.method,
        request.path,
        ctx.route,
        request.headers.get("host"),
        ctx.backend,
        ctx.version,
        operation,
        ctx.requested_model,
    )
    block = encoder.cached_block(key)
    if block is None:
        block = encoder.store_block(key, _root_static(ctx, operation))
    return block


def _attempt_static(
    ctx: RequestContext, backend: str, authority: str, operation: str | None
) -> tuple[tuple[str, Any], ...]:
    host, _, port = authority.rpartition(":")
    items: list[tuple[str, Any]] = [("server.address", host or authority), ("inferlane.backend", backend)]
    if port.isdigit():
        items.append(("server.port", int(port)))
    if operation:
        items.append(("gen_ai.operation.name", operation))
    if ctx.model:
        items.append(("gen_ai.request.model", ctx.model))
    return tuple(items)


def _root_static(ctx: RequestContext, operation: str | None) -> tuple[tuple[str, Any], ...]:
    """The root span's attributes that repeat across requests of one route and model."""
    items: list[tuple[str, Any]] = [
        ("http.request.method", ctx.request.method),
        ("url.path", ctx.request.path),
        ("inferlane.route", ctx.route),
    ]
    host = ctx.request.headers.get("host")
    if host:
        items.append(("server.address", host.rpartition(":")[0] or host))
    if ctx.backend:
        items.append(("inferlane.backend", ctx.backend))
    if ctx.version:
        items.append(("inferlane.version", ctx.version))
    if operation is not None:
        items.append(("gen_ai.operation.name", operation))
        if ctx.requested_model:
            items.append(("gen_ai.request.model", ctx.requested_model))
    return tuple(items)


def _root_attributes(
    ctx: RequestContext, operation: str | None, status: int, error_kind: str
) -> dict[str, Any]:
    """The root span's attributes that change per request."""
    attributes: dict[str, Any] = {
        "http.response.status_code": status,
        "inferlane.retries": ctx.retries,
    }
    if error_kind:
        attributes["error.type"] = error_kind
    if operation is None:
        return attributes
    json = ctx.json
    if json is not None:
        for key, name in _REQUEST_PARAMETERS:
            value = json.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                attributes[name] = value
    obs = ctx.observation
    answered = None
    if obs is not None:
        answered = obs.tap.model if obs.tap is not None else obs.response_model
    if answered or ctx.model:
        attributes["gen_ai.response.model"] = answered or ctx.model
    usage = ctx.usage
    if isinstance(usage, Usage):
        attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if usage.estimated:
            attributes["inferlane.usage.estimated"] = True
    return attributes
