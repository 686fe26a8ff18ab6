"""Liveness and readiness, answered locally on both the application and the admin port."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

_OK = b'{"status":"ok"}'


class Probes:
    """``/health`` is 200 while the process serves; ``/ready`` is 200 only with config loaded, upstream
    pools up and no drain in progress (it turns 503 the moment SIGTERM arrives)."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        self._ready = ready
        self.draining = False

    @property
    def ready(self) -> bool:
        return not self.draining and self._ready()

    def answer(self, path: str) -> web.Response | None:
        if path == "/health":
            return web.Response(body=_OK, content_type="application/json")
        if path == "/ready":
            if self.ready:
                return web.Response(body=_OK, content_type="application/json")
            reason = b"draining" if self.draining else b"upstream pools not ready"
            return web.Response(
                status=503,
                body=b'{"status":"not ready","reason":"' + reason + b'"}',
                content_type="application/json",
            )
        return None
