"""The spans of one finished, sampled request, built from what the request path recorded.

Root: a SERVER span ``{gen_ai.operation.name} {gen_ai.request.model}`` (or ``{method} {route}``) with the
GenAI attributes; children: ``route`` (decide stages), ``queue`` (admission/batching wait), spans other
stages added (``batch``), and one CLIENT span ``{method} {host:port}`` per upstream attempt (its id was sent
upstream as ``traceparent``), with the GenAI request attributes too.

What repeats across requests of one route (the root's name and static attributes) or one endpoint (an
attempt's) is encoded once into a :class:`Template`; a request adds only its ids, times and the few
attributes that change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from inferlane.observability.otlp import (
    KIND_CLIENT,
    KIND_INTERNAL,
    KIND_SERVER,
    Attributes,
    OtlpEncoder,
    remember,
)
from inferlane.observability.usage import Usage

if TYPE_CHECKING:
    from inferlane.observability.observation import Attempt, Observation
    from inferlane.observability.tracing import RequestTrace
    from inferlane.pipeline.context import RequestContext

#: entries each template cache keeps before it is cleared (as the encoder's caches)
CACHE_LIMIT = OtlpEncoder.CACHE_LIMIT
#: the attribute (and its type in the GenAI conventions) of each request body key the root span reads, in
#: the order :func:`_answer_attributes` reads them: max_tokens, max_completion_tokens, temperature, top_p
_PARAMETER_ATTRIBUTES: tuple[tuple[str, type[int] | type[float]], ...] = (
    ("gen_ai.request.max_tokens", int),
    ("gen_ai.request.max_tokens", int),
    ("gen_ai.request.temperature", float),
    ("gen_ai.request.top_p", float),
)
_OPERATIONS = (
    ("/chat/completions", "chat"),
    ("/completions", "text_completion"),
    ("/embeddings", "embeddings"),
)


class Template(NamedTuple):
    """A span's parts that repeat: its encoded name and kind, and its static attributes."""

    operation: str | None
    name_kind: bytes
    attributes: bytes


class SpanTemplates:
    """The encoded span parts that repeat, each kept under a flat key of what it is made from: a route's
    root :class:`Template`, an endpoint's attempt :class:`Template` (with the attempt's outcome), and a
    root's answer attributes (status, retries, response model, request parameters). Each dict is cleared
    when it reaches :data:`CACHE_LIMIT` entries."""

    def __init__(self, encoder: OtlpEncoder) -> None:
        self.encoder = encoder
        self.roots: dict[tuple[Any, ...], Template] = {}
        self.attempts: dict[tuple[Any, ...], Template] = {}
        self.answers: dict[tuple[Any, ...], bytes] = {}
        self.route = encoder.name_kind("route", KIND_INTERNAL)


def operation_of(path: str) -> str | None:
    """``gen_ai.operation.name`` of an OpenAI-style path."""
    for suffix, name in _OPERATIONS:
        if path.endswith(suffix):
            return name
    return None


def request_spans(
    templates: SpanTemplates,
    trace: RequestTrace,
    ctx: RequestContext,
    status: int,
    error_kind: str,
    seconds: float,
) -> list[bytes]:
    """The encoded spans of one finished request."""
    encoder = templates.encoder
    request = ctx.request
    key = (
        request.method,
        request.path,
        ctx.route,
        request.headers.get("host"),
        ctx.backend,
        ctx.version,
        ctx.requested_model,
    )
    root = templates.roots.get(key) or remember(
        templates.roots, key, _root_template(encoder, ctx), CACHE_LIMIT
    )
    started = ctx.started
    offset = request.received_at - started  # wall-clock time of the edge's monotonic clock
    start_ns = int(request.received_at * 1e9)
    obs = ctx.observation
    attributes = (
        root.attributes
        + _answer_attributes(templates, ctx, root.operation, status, error_kind)
        + _usage_attributes(encoder, ctx, obs)
        + encoder.attribute("inferlane.request_id", ctx.request_id)  # unique: not cached
    )
    parent = b"\x22\x08" + trace.parent_id if trace.parent_id is not None else b""
    spans = [
        encoder.framed(
            trace.head + trace.span_id + parent,
            root.name_kind,
            start_ns,
            int((started + seconds + offset) * 1e9),
            attributes,
            status >= 500 or bool(error_kind),
        )
    ]
    if obs is None:
        return spans
    under_root = b"\x22\x08" + trace.span_id  # parent_span_id (4) of every child
    spans.append(
        encoder.framed(
            trace.head + trace.new_span_id() + under_root,
            templates.route,
            start_ns,
            int((obs.decided_at + offset) * 1e9),
            b"",
            False,
        )
    )
    if ctx.queued_s > 0 or trace.extra:
        spans.extend(_stage_spans(encoder, trace, ctx, obs, offset, under_root))
    spans.extend(_attempt_spans(templates, trace, ctx, obs, root.operation, offset, under_root))
    return spans


def _attempt_spans(
    templates: SpanTemplates,
    trace: RequestTrace,
    ctx: RequestContext,
    obs: Observation,
    operation: str | None,
    offset: float,
    under_root: bytes,
) -> list[bytes]:
    """One CLIENT span per upstream attempt (its id was sent upstream); the last one lasts until its
    stream ended."""
    spans = []
    framed = templates.encoder.framed
    last = len(obs.attempts) - 1
    for i, attempt in enumerate(obs.attempts):
        stop = obs.stream_ended_at if i == last and obs.stream_ended_at is not None else attempt.end
        template = _attempt_template(templates, ctx, i, attempt, operation)
        spans.append(
            framed(
                trace.head + (attempt.span_id or trace.new_span_id()) + under_root,
                template.name_kind,
                int((attempt.start + offset) * 1e9),
                int((stop + offset) * 1e9),
                template.attributes,
                attempt.status >= 500 or bool(attempt.error_kind),
            )
        )
    return spans


def _stage_spans(
    encoder: OtlpEncoder,
    trace: RequestTrace,
    ctx: RequestContext,
    obs: Observation,
    offset: float,
    under_root: bytes,
) -> list[bytes]:
    """``queue`` (time waiting in admission or batching queues) and the spans stages added."""
    children: list[tuple[str, float, float, Attributes]] = []
    if ctx.queued_s > 0:
        until = obs.attempts[0].start if obs.attempts else obs.decided_at
        children.append(("queue", until - ctx.queued_s, until, {"inferlane.queued_s": ctx.queued_s}))
    children.extend(trace.extra)
    return [
        encoder.framed(
            trace.head + trace.new_span_id() + under_root,
            encoder.name_kind(name, KIND_INTERNAL),
            int((start + offset) * 1e9),
            int((end + offset) * 1e9),
            encoder.attributes(attributes),
            False,
        )
        for name, start, end, attributes in children
    ]


def _root_template(encoder: OtlpEncoder, ctx: RequestContext) -> Template:
    """The root span's name and the attributes that repeat across requests of one route and model."""
    request = ctx.request
    operation = operation_of(request.path)
    items: list[tuple[str, Any]] = [
        ("http.request.method", request.method),
        ("url.path", request.path),
        ("inferlane.route", ctx.route),
    ]
    host = request.headers.get("host")
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
    name = f"{operation} {ctx.requested_model}" if operation and ctx.requested_model else None
    name_kind = encoder.name_kind(name or f"{request.method} {ctx.route}", KIND_SERVER)
    return Template(operation, name_kind, encoder.attributes(dict(items)))


def _attempt_template(
    templates: SpanTemplates, ctx: RequestContext, index: int, attempt: Attempt, operation: str | None
) -> Template:
    """An attempt's name and attributes: its endpoint's, the request model's and its outcome's."""
    endpoint = attempt.endpoint
    key = (ctx.request.method, endpoint.id, operation, ctx.model, index, attempt.status, attempt.error_kind)
    template = templates.attempts.get(key)
    if template is not None:
        return template
    authority = endpoint.authority
    host, _, port = authority.rpartition(":")
    items: dict[str, Any] = {"server.address": host or authority, "inferlane.backend": endpoint.backend}
    if port.isdigit():
        items["server.port"] = int(port)
    if operation:
        items["gen_ai.operation.name"] = operation
    if ctx.model:
        items["gen_ai.request.model"] = ctx.model
    items["inferlane.attempt"] = index + 1
    if attempt.status:
        items["http.response.status_code"] = attempt.status
    if attempt.error_kind:
        items["error.type"] = attempt.error_kind
    encoder = templates.encoder
    name_kind = encoder.name_kind(f"{ctx.request.method} {authority}", KIND_CLIENT)
    return remember(
        templates.attempts, key, Template(operation, name_kind, encoder.attributes(items)), CACHE_LIMIT
    )


def _answer_attributes(
    templates: SpanTemplates, ctx: RequestContext, operation: str | None, status: int, error_kind: str
) -> bytes:
    """The root's attributes about the answer, which repeat across requests: status, retries, error,
    response model, and (for GenAI operations) the request parameters."""
    obs = ctx.observation
    answered = None
    if obs is not None:
        answered = obs.tap.model if obs.tap is not None else obs.response_model
    key: tuple[Any, ...] = (status, ctx.retries, error_kind, operation, answered or ctx.model)
    json = ctx.json if operation is not None else None
    if json is not None:  # four lookups cost less than one tuple(map(...)) of them
        get = json.get
        key += (get("max_tokens"), get("max_completion_tokens"), get("temperature"), get("top_p"))
    try:
        return templates.answers[key]
    except KeyError:
        block = templates.encoder.attributes(_answer(key))
        return remember(templates.answers, key, block, CACHE_LIMIT)
    except TypeError:  # a parameter that is a list or an object: not a valid value, not hashable
        return templates.encoder.attributes(_answer(key))


def _answer(key: tuple[Any, ...]) -> dict[str, Any]:
    status, retries, error_kind, operation, model, *parameters = key
    attributes: dict[str, Any] = {"http.response.status_code": status, "inferlane.retries": retries}
    if error_kind:
        attributes["error.type"] = error_kind
    if operation is None:
        return attributes
    for (name, kind), value in zip(_PARAMETER_ATTRIBUTES, parameters, strict=False):  # none: no JSON
        if value is not None and isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = kind(value)
    if model:
        attributes["gen_ai.response.model"] = model
    return attributes


def _usage_attributes(encoder: OtlpEncoder, ctx: RequestContext, obs: Observation | None) -> bytes:
    """The root's attributes that change with every request: tokens and time to first token."""
    attributes = b""
    usage = ctx.usage
    if isinstance(usage, Usage):
        attributes = encoder.cached("gen_ai.usage.input_tokens", usage.input_tokens) + encoder.cached(
            "gen_ai.usage.output_tokens", usage.output_tokens
        )
        if usage.estimated:
            attributes += encoder.cached("inferlane.usage.estimated", True)
    tap = obs.tap if obs is not None else None
    if tap is not None and tap.first_token_at is not None:
        ttft = tap.first_token_at - ctx.started
        attributes += encoder.attribute("gen_ai.server.time_to_first_token", ttft)
    return attributes
