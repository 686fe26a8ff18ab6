"""The structured access log: one JSON line per request. Never bodies, prompts, keys or query strings —
except with ``logging.debugBodies: true``, which adds truncated bodies and is announced at startup."""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

import orjson
from aiohttp.web_request import BaseRequest

from inferlane.observability.usage import Usage

if TYPE_CHECKING:
    from inferlane.pipeline.context import RequestContext
    from inferlane.server.respond import StreamOutcome

#: bytes of each body kept in debug mode
DEBUG_BODY_LIMIT = 2048


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class AccessLog:
    def __init__(self, stream: IO[bytes] | None = None, debug_bodies: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr.buffer
        self.debug_bodies = debug_bodies

    def write(
        self,
        request: BaseRequest,
        ctx: RequestContext | None,
        request_id: str,
        status: int,
        error_kind: str,
        elapsed: float,
        outcome: StreamOutcome,
        started: float,
    ) -> None:
        record: dict[str, object] = {
            "ts": round(ctx.request.received_at if ctx is not None else time.time(), 3),
            "type": "access",
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": _ms(elapsed),
        }
        if error_kind:
            record["error_kind"] = error_kind
        if ctx is not None:
            self._context(record, ctx)
        if outcome.first_byte_at is not None:
            record["ttfb_ms"] = _ms(outcome.first_byte_at - started)
        self.stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self.stream.flush()

    def _context(self, record: dict[str, object], ctx: RequestContext) -> None:
        record["route"] = ctx.route
        record["backend"] = ctx.backend
        record["model"] = ctx.model
        if ctx.requested_model != ctx.model:
            record["requested_model"] = ctx.requested_model
        if ctx.version is not None:
            record["version"] = ctx.version
        if ctx.tenant is not None:
            record["tenant"] = ctx.tenant
        record["stream"] = ctx.stream
        if ctx.endpoint is not None:
            record["endpoint"] = ctx.endpoint.authority
        record["attempts"] = ctx.attempts
        record["retries"] = ctx.retries
        if ctx.queued_s:
            record["queued_ms"] = _ms(ctx.queued_s)
        obs = ctx.observation
        if obs is not None:
            record["upstream_ms"] = _ms(obs.upstream_s)
            if obs.tap is not None and obs.tap.first_token_at is not None:
                record["ttft_ms"] = _ms(obs.tap.first_token_at - ctx.started)
        usage = ctx.usage
        if isinstance(usage, Usage):
            record["input_tokens"] = usage.input_tokens
            record["output_tokens"] = usage.output_tokens
            if usage.cached_tokens:
                record["cached_tokens"] = usage.cached_tokens
            if usage.estimated:
                record["tokens_estimated"] = True
        if self.debug_bodies:
            record["request_body"] = ctx.request.body[:DEBUG_BODY_LIMIT].decode("utf-8", "replace")
            response_body = ctx.extra.get("response_body")
            if isinstance(response_body, bytes):
                record["response_body"] = response_body[:DEBUG_BODY_LIMIT].decode("utf-8", "replace")
