"""The HTTP edge of the application port: bytes in, pipeline, bytes out. No web framework in between.

Errors are mapped to OpenAI-style JSON here, once. A client that hangs up cancels this handler (aiohttp
``handler_cancellation``), which closes the upstream connection at once so the model server frees the
slot.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_request import BaseRequest

from inferlane.config.schema import ServerConfig
from inferlane.errors import InferlaneError, Overloaded
from inferlane.model import ProxyRequest, ProxyResponse
from inferlane.observability.access_log import AccessLog
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.holder import PipelineHolder
from inferlane.server.body import parse_json, read_body
from inferlane.server.probes import Probes
from inferlane.server.respond import StreamOutcome, error_response, write_stream

CLIENT_CLOSED = 499  # nginx's convention for "client closed the request"

#: called once per finished request: (context, or None when the request never parsed; status; error kind;
#: seconds)
FinishedHook = Callable[[RequestContext | None, int, str, float], None]


class Edge:
    def __init__(
        self,
        holder: PipelineHolder,
        config: ServerConfig,
        probes: Probes,
        metrics: ProxyMetrics,
        access_log: AccessLog | None,
        clock: Callable[[], float],
    ) -> None:
        self.holder = holder
        self.config = config
        self.probes = probes
        self.metrics = metrics
        self.access_log = access_log
        self.clock = clock
        self.in_flight = 0
        #: observers of finished requests (metrics and traces, status page, rollout analysis); each must be
        #: cheap and never raise
        self.finished_hooks: list[FinishedHook] = []
        metrics.watch_in_flight(lambda: self.in_flight)

    async def __call__(self, request: BaseRequest) -> web.StreamResponse:
        local = self.probes.answer(request.path)
        if local is not None:
            return local
        started = self.clock()
        request_id = request.headers.get("x-request-id") or os.urandom(16).hex()
        extra = [("X-Request-Id", request_id)]
        if self.in_flight >= self.config.max_concurrent_requests:
            limit = self.config.max_concurrent_requests
            error = Overloaded(f"too many concurrent requests (server.maxConcurrentRequests={limit})")
            for hook in self.finished_hooks:
                hook(None, error.status, error.kind, 0.0)
            return self._closing(error_response(error, extra))
        self.in_flight += 1
        pipeline = self.holder.acquire()
        ctx: RequestContext | None = None
        status, error_kind, outcome = 0, "", StreamOutcome()
        try:
            ctx = await self._context(request, request_id, started)
            response = await pipeline.handle(ctx)
            status = response.status
            return await self._write(request, ctx, response, extra, outcome)
        except InferlaneError as error:
            status, error_kind = error.status, error.kind
            return self._closing(error_response(error, extra))
        except (asyncio.CancelledError, ConnectionError):
            # the client hung up: the handler is cancelled (or its write fails); the upstream is closed below
            status, error_kind = CLIENT_CLOSED, "client_disconnect"
            self.metrics.client_disconnects.labels(ctx.route if ctx else "-").inc()
            raise
        finally:
            self.in_flight -= 1
            self.holder.release(pipeline)
            if outcome.error is not None:
                error_kind = outcome.error.kind
                self.metrics.stream_errors.labels(ctx.backend if ctx else "-", error_kind).inc()
            self._observe(request, ctx, request_id, started, status, error_kind, outcome)

    async def _context(self, request: BaseRequest, request_id: str, started: float) -> RequestContext:
        config = self.config
        body = await read_body(request, config.max_body_size, config.read_timeout)
        path = request.path
        json = parse_json(path, request.method, request.headers.get("Content-Type", ""), body)
        proxy_request = ProxyRequest(
            method=request.method,
            path=path,
            target=request.raw_path,
            headers=request.headers,
            body=body,
            client_ip=request.remote or "",
            received_at=time.time(),
        )
        return RequestContext(proxy_request, request_id, started, started + config.write_timeout, json)

    async def _write(
        self,
        request: BaseRequest,
        ctx: RequestContext,
        response: ProxyResponse,
        extra: list[tuple[str, str]],
        outcome: StreamOutcome,
    ) -> web.StreamResponse:
        headers = response.headers
        headers.extend(extra)
        if ctx.response_headers:
            headers.extend(ctx.response_headers.items())
        if response.stream is None:
            ctx.first_byte_at = self.clock()
            return self._closing(web.Response(status=response.status, body=response.body, headers=headers))
        try:
            return await write_stream(request, response, headers, outcome, self.clock, self.probes.draining)
        finally:
            if response.close is not None:
                await response.close()

    def _closing(self, response: web.Response) -> web.Response:
        """While draining, every response closes its connection so clients reconnect elsewhere."""
        if self.probes.draining:
            response.force_close()
        return response

    def _observe(
        self,
        request: BaseRequest,
        ctx: RequestContext | None,
        request_id: str,
        started: float,
        status: int,
        error_kind: str,
        outcome: StreamOutcome,
    ) -> None:
        elapsed = self.clock() - started
        if ctx is not None and outcome.first_byte_at is not None:
            ctx.first_byte_at = outcome.first_byte_at
        # the request counters and durations too: the observer's hook records them (observability/)
        for hook in self.finished_hooks:  # before the access log: hooks settle usage it reports
            hook(ctx, status, error_kind, elapsed)
        if self.access_log is not None:
            self.access_log.write(request, ctx, request_id, status, error_kind, elapsed, outcome, started)
