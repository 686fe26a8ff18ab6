"""The structured access log: one JSON line per request. Never bodies, prompts, keys or query strings."""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

import orjson
from aiohttp.web_request import BaseRequest

if TYPE_CHECKING:
    from inferlane.pipeline.context import RequestContext
    from inferlane.server.respond import StreamOutcome


class AccessLog:
    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr.buffer

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
            "duration_ms": round(elapsed * 1000, 3),
        }
        if error_kind:
            record["error_kind"] = error_kind
        if ctx is not None:
            record["route"] = ctx.route
            record["backend"] = ctx.backend
            record["model"] = ctx.model
            record["stream"] = ctx.stream
            if ctx.endpoint is not None:
                record["endpoint"] = ctx.endpoint.authority
            record["attempts"] = ctx.attempts
            record["retries"] = ctx.retries
        if outcome.first_byte_at is not None:
            record["ttfb_ms"] = round((outcome.first_byte_at - started) * 1000, 3)
        self.stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self.stream.flush()
