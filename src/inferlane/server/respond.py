"""Writing a ProxyResponse to the client: whole bodies in one send, streams chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.web_request import BaseRequest

from inferlane.errors import InferlaneError
from inferlane.model import Headers, ProxyResponse


def error_response(error: InferlaneError, extra: Headers) -> web.Response:
    headers = [("Content-Type", "application/json"), *error.headers.items(), *extra]
    return web.Response(status=error.status, body=error.body(), headers=headers)


def sse_error(error: InferlaneError) -> bytes:
    """An SSE event the openai client raises as an APIError, then the end of the stream."""
    return b"data: " + error.body() + b"\n\ndata: [DONE]\n\n"


class StreamOutcome:
    """What happened while relaying a stream, for metrics and the access log."""

    __slots__ = ("error", "first_byte_at")

    def __init__(self) -> None:
        self.error: InferlaneError | None = None
        self.first_byte_at: float | None = None


async def write_stream(
    request: BaseRequest,
    response: ProxyResponse,
    headers: Headers,
    outcome: StreamOutcome,
    clock: Callable[[], float],
    close_connection: bool = False,
) -> web.StreamResponse:
    """Relay ``response.stream``; an upstream failure mid-stream ends the response cleanly.

    Event streams get an error event and ``[DONE]``; other bodies are cut (connection closed without the
    final chunk) so the client can tell the body is incomplete.
    """
    assert response.stream is not None
    out = web.StreamResponse(status=response.status, headers=headers)
    if close_connection:
        out.force_close()
    await out.prepare(request)
    try:
        async for chunk in response.stream:
            if outcome.first_byte_at is None:
                outcome.first_byte_at = clock()
            await out.write(chunk)
    except InferlaneError as error:
        outcome.error = error
        if response.is_event_stream:
            await out.write(sse_error(error))
        else:
            if request.transport is not None:
                request.transport.close()
            return out
    await out.write_eof()
    return out
