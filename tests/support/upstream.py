"""A real HTTP upstream on loopback whose behaviour each test picks per request (header ``x-test``).

Behaviours: ``ok`` (echo), ``status=NNN`` (that status with an OpenAI-style error body), ``slow=SECONDS``,
``hang`` (never answer), ``reset`` (close before headers), ``lie`` (Content-Length larger than the body),
``stream=N`` (N SSE chunks then [DONE]), ``reset-mid-stream=N``, ``stall-mid-stream=N``, ``retry-after=S``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Seen:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes


@dataclass
class FakeUpstream:
    name: str = "up"
    requests: list[Seen] = field(default_factory=list)
    #: behaviour applied when a request has no x-test header
    default: str = "ok"
    #: a queue of behaviours consumed one per request before ``default`` applies (e.g. 5xx bursts)
    script: list[str] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    stream_gap: float = 0.0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeUpstream:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def behaviour(self, request: web.Request) -> str:
        if "x-test" in request.headers:
            return request.headers["x-test"]
        return self.script.pop(0) if self.script else self.default

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.path_qs, CIMultiDict(request.headers), body))
        kind, _, arg = self.behaviour(request).partition("=")
        if kind == "status":
            return _error(int(arg))
        if kind == "retry-after":
            return _error(503, {"Retry-After": arg})
        if kind == "slow":
            await asyncio.sleep(float(arg))
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if kind == "lie":
            return await self._lie(request)
        if kind in ("stream", "reset-mid-stream", "stall-mid-stream"):
            return await self._stream(request, kind, int(arg or 5))
        return web.json_response(
            {"echo": True, "upstream": self.name, "path": request.path, "bytes": len(body)}
        )

    async def _lie(self, request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}"
        )
        request.transport.close()
        return web.Response()

    async def _stream(self, request: web.Request, kind: str, count: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for i in range(count):
                chunk = {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "m",
                    "choices": [_delta(f"t{i} ")],
                }
                await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                if self.stream_gap:
                    await asyncio.sleep(self.stream_gap)
            if kind == "reset-mid-stream":
                assert request.transport is not None
                request.transport.abort()
                return response
            if kind == "stall-mid-stream":
                await asyncio.sleep(3600)
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (asyncio.CancelledError, ConnectionError):
            self.disconnected.set()
            raise
        return response


def _delta(text: str) -> dict[str, Any]:
    return {"index": 0, "delta": {"content": text}, "finish_reason": None}


def _error(status: int, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": f"upstream says {status}", "type": "upstream", "code": status}}
    return web.json_response(body, status=status, headers=headers)
