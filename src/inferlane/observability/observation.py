"""What is measured about one request while it runs (``ctx.observation``), and the stream it watches.

The accounting stage creates an :class:`Observation` when a request reaches the interceptors; the upstream
call reports each attempt to it, and a :class:`StreamWatch` (called inline by ``UpstreamStream``, or through
:class:`ObservedStream` for other streams) times the relayed stream and reads its usage. Nothing here
allocates per chunk beyond what the SSE tap needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from inferlane.model import Endpoint
from inferlane.observability.sse_usage import SseUsageTap
from inferlane.observability.usage import Usage, find_usage

if TYPE_CHECKING:
    from inferlane.observability.observer import Observer
    from inferlane.observability.tracing import RequestTrace
    from inferlane.pipeline.context import RequestContext

_TAIL = 4096  # bytes of a non-SSE streamed body kept to find its usage at the end


class Attempt:
    __slots__ = ("end", "endpoint", "error_kind", "span_id", "start", "status")

    def __init__(
        self,
        endpoint: Endpoint,
        start: float,
        end: float,
        status: int,
        error_kind: str,
        span_id: bytes | None,
    ) -> None:
        self.endpoint = endpoint
        self.start = start
        self.end = end
        self.status = status
        self.error_kind = error_kind
        self.span_id = span_id


class Observation:
    __slots__ = (
        "attempts",
        "decided_at",
        "generation",
        "model_label",
        "observer",
        "response_model",
        "span_id",
        "stream_ended_at",
        "stream_started_at",
        "tap",
        "trace",
        "upstream_s",
        "usage_requested",
    )

    def __init__(self, observer: Observer, decided_at: float, trace: RequestTrace | None) -> None:
        self.observer = observer
        #: when the decide stages were done (routing span, proxy overhead)
        self.decided_at = decided_at
        self.trace = trace
        #: the route's ``model`` label, used when the body names no model
        self.model_label: str | None = None
        #: an OpenAI-style generation (chat/completions): token estimates apply when usage is missing
        self.generation = False
        #: the proxy added ``stream_options.include_usage`` (the client did not ask)
        self.usage_requested = False
        self.upstream_s = 0.0
        #: the model the upstream's answer names, when read (non-streamed answers; streams: ``tap.model``)
        self.response_model: str | None = None
        #: upstream attempts, kept when the request is traced
        self.attempts: tuple[Attempt, ...] = ()
        self.span_id: bytes | None = None
        self.tap: SseUsageTap | None = None
        self.stream_started_at: float | None = None
        self.stream_ended_at: float | None = None

    def attempt_started(self, ctx: RequestContext) -> float:
        """An upstream attempt begins (called by ``UpstreamCall``); when traced it gets a span id, sent
        upstream as ``traceparent``. Returns the start time for :meth:`attempt_ended`."""
        if self.trace is not None:
            self.span_id = self.trace.attempt_header(ctx)
        return self.observer.clock()

    def attempt_ended(
        self, started: float, backend: str, endpoint: Endpoint, status: int, error_kind: str
    ) -> None:
        """It answered (headers, or the whole small body) or failed: count its time as upstream time."""
        end = self.observer.clock()
        seconds = end - started
        self.upstream_s += seconds
        recorder = self.observer.recorder
        (recorder.upstream.get(endpoint.id) or recorder.upstream_child(backend, endpoint)).observe(seconds)
        if self.trace is not None:  # kept only for the attempt's span
            self.attempts += (Attempt(endpoint, started, end, status, error_kind, self.span_id),)

    def stream_ended(self, now: float) -> None:
        if self.stream_ended_at is None and self.stream_started_at is not None:
            self.stream_ended_at = now
            self.upstream_s += now - self.stream_started_at


class StreamWatch:
    """Reads a relayed stream for observability: the SSE tap (or the tail of other bodies), its timing and
    usage. Synchronous, so the relay calls it without an extra coroutine per chunk (``UpstreamStream``
    takes it as its ``watch``; other streams are wrapped in :class:`ObservedStream`)."""

    __slots__ = ("_ctx", "_ended", "_obs", "_tail", "_tap", "feed")

    def __init__(self, obs: Observation, ctx: RequestContext, tap: SseUsageTap | None) -> None:
        self._obs = obs
        self._ctx = ctx
        self._tap = tap
        self._tail = b""
        self._ended = False
        #: the bytes to relay for a chunk (empty while an SSE event is incomplete): the tap itself, so a
        #: relayed event costs one call
        self.feed: Callable[[bytes], bytes] = tap.feed if tap is not None else self._keep_tail
        obs.tap = tap
        obs.stream_started_at = obs.observer.clock()

    def _keep_tail(self, chunk: bytes) -> bytes:
        self._tail = chunk[-_TAIL:] if len(chunk) >= _TAIL else (self._tail + chunk)[-_TAIL:]
        return chunk

    def finish(self) -> bytes:
        """The upstream ended: what is left to relay (an unterminated last event)."""
        rest = self._tap.finish() if self._tap is not None else b""
        self.ended()
        return rest

    def ended(self) -> None:
        """The stream is over (finished, broken or abandoned): time it and settle its usage."""
        if self._ended:
            return
        self._ended = True
        obs = self._obs
        obs.stream_ended(obs.observer.clock())
        usage: Usage | None = self._tap.usage if self._tap is not None else find_usage(self._tail)
        if usage is not None and self._ctx.usage is None:
            self._ctx.usage = usage


class ObservedStream:
    """A :class:`StreamWatch` around a stream that is not an ``UpstreamStream`` (e.g. made by a stage)."""

    __slots__ = ("_inner", "_watch")

    def __init__(self, inner: AsyncIterator[bytes], watch: StreamWatch) -> None:
        self._inner = inner
        self._watch = watch

    def __aiter__(self) -> ObservedStream:
        return self

    async def __anext__(self) -> bytes:
        while True:
            try:
                chunk = await self._inner.__anext__()
            except StopAsyncIteration:
                rest = self._watch.finish()
                if rest:
                    return rest
                raise
            except BaseException:
                self._watch.ended()
                raise
            out = self._watch.feed(chunk)
            if out:
                return out
