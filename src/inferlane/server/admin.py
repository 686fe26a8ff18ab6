"""The admin port (15020): metrics, probes, read-only state and token-guarded mutations."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from inferlane.observability.metrics import ProxyMetrics
from inferlane.server.probes import Probes

log = logging.getLogger("inferlane.admin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: adds a feature's routes: (application, the token guard for mutations)
Mount = Callable[[web.Application, Callable[[Handler], Handler]], None]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _error(status: int, message: str, code: str) -> web.Response:
    return _json({"error": {"message": message, "type": "admin_error", "code": code}}, status)


class AdminApi:
    def __init__(
        self,
        probes: Probes,
        metrics: ProxyMetrics,
        token: Callable[[], str | None],
        state: Callable[[], dict[str, Any]],
        reload: Callable[[], Awaitable[bool]],
        mounts: Sequence[Mount] = (),
    ) -> None:
        self.probes = probes
        self.metrics = metrics
        self.token = token
        self.state = state
        self.reload_config = reload
        self.mounts = mounts

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/health", self.probe)
        app.router.add_get("/ready", self.probe)
        app.router.add_get("/admin/state", self.get_state)
        app.router.add_post("/admin/reload", self.guarded(self.post_reload))
        for mount in self.mounts:
            mount(app, self.guarded)
        return app

    async def metrics_page(self, request: web.Request) -> web.Response:
        if "application/openmetrics-text" in request.headers.get("Accept", ""):
            body = generate_openmetrics(self.metrics.registry)  # type: ignore[no-untyped-call]
            return web.Response(body=body, headers={"Content-Type": OPENMETRICS_TYPE})
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def probe(self, request: web.Request) -> web.Response:
        answer = self.probes.answer(request.path)
        assert answer is not None
        return answer

    async def get_state(self, request: web.Request) -> web.Response:
        return _json(self.state())

    def guarded(self, handler: Handler) -> Handler:
        """Mutations need ``Authorization: Bearer <admin.token>``; with no token configured they are off."""

        async def check(request: web.Request) -> web.StreamResponse:
            expected = self.token()
            if not expected:
                return _error(403, "admin mutations are disabled: set admin.token", "admin_disabled")
            supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(supplied.encode(), expected.encode()):
                log.warning("admin request rejected", extra={"path": request.path, "remote": request.remote})
                return _error(401, "missing or invalid admin token", "unauthorized")
            log.info("admin mutation", extra={"path": request.path, "remote": request.remote})
            return await handler(request)

        return check

    async def post_reload(self, request: web.Request) -> web.Response:
        ok = await self.reload_config()
        if ok:
            return _json({"reloaded": True})
        return _error(
            400, "config reload failed; the previous config keeps running (see logs)", "reload_failed"
        )
