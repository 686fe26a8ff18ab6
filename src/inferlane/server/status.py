"""The live status view on the admin port: ``GET /`` (a self-contained HTML page) and ``GET /admin/status``
(the JSON document the page, ``inferlane top`` and operators poll). Read-only; no secrets in either.

Fed from ``App.state()`` (endpoints, rollouts, batching — whatever the running stages report), the config
(routes), the live weight store (splits) and what ``Edge.finished_hooks`` reports (recent errors, per-second
traffic). The JSON shape is documented in docs/operations.md ("Status page and inferlane top").
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson
from aiohttp import web

from inferlane import __version__
from inferlane.config.schema import ProxyConfig
from inferlane.pipeline.context import RequestContext
from inferlane.server.status_sources import routes_of, splits_of
from inferlane.server.status_window import ErrorRing, RecentError, TrafficWindow, is_failure, is_listed
from inferlane.stages.split.weights import WeightOverrides

#: a client picks the model string; the page shows at most this much of it
MODEL_CHARS = 120


class StatusFeed:
    def __init__(
        self,
        state: Callable[[], dict[str, Any]],
        config: Callable[[], ProxyConfig],
        overrides: WeightOverrides,
        wall: Callable[[], float],
        *,
        batching: Callable[[], dict[str, Any] | None] = lambda: None,
        window_seconds: int = 120,
        errors_kept: int = 50,
    ) -> None:
        self.state = state
        self.config = config
        self.overrides = overrides
        self.wall = wall
        self.batching = batching
        self.started_at = wall()
        self.traffic = TrafficWindow(window_seconds)
        self.errors = ErrorRing(errors_kept)
        self._page: bytes | None = None

    # --- the finished-request hook (hot path: an append) ---------------------------------------------

    def record(self, ctx: RequestContext | None, status: int, error_kind: str, seconds: float) -> None:
        now = self.wall()
        if 0 < status < 400 and not error_kind:  # the common case: nothing to list
            self.traffic.add_ok(now, seconds)
            return
        self.traffic.add(now, seconds, is_failure(status, error_kind))
        if is_listed(status, error_kind):
            self.errors.add(
                RecentError(
                    at=now,
                    request_id=ctx.request_id if ctx is not None else "-",
                    route=ctx.route if ctx is not None else "-",
                    model=(ctx.model or "-")[:MODEL_CHARS] if ctx is not None else "-",
                    backend=(ctx.backend or "-") if ctx is not None else "-",
                    endpoint=ctx.endpoint.authority if ctx is not None and ctx.endpoint else "-",
                    status=status,
                    error_kind=error_kind or "none",
                    seconds=seconds,
                )
            )

    # --- the document ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        state = self.state()
        now = self.wall()
        config = self.config()
        return {
            "version": __version__,
            "time": now,
            "uptime_s": round(now - self.started_at, 3),
            "generation": state.get("generation"),
            "ready": state.get("ready"),
            "draining": state.get("draining"),
            "routes": routes_of(config),
            "splits": splits_of(self.overrides, state, config),
            "rollouts": state.get("rollouts"),
            "batching": state.get("batching") or self.batching(),
            "backends": state.get("backends", {}),
            "errors": self.errors.newest_first(),
            "traffic": {
                "interval_s": 1,
                "total_requests": self.traffic.total_requests,
                "total_errors": self.traffic.total_errors,
                "samples": self.traffic.samples(now),
            },
        }

    # --- HTTP --------------------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Serve the page at ``/`` and the JSON at ``/admin/status`` (page read once, here at startup)."""
        self._page = resources.files("inferlane.server").joinpath("status_page.html").read_bytes()
        app.router.add_get("/", self.page)
        app.router.add_get("/admin/status", self.status)

    async def page(self, request: web.Request) -> web.Response:
        assert self._page is not None
        return web.Response(
            body=self._page,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP},
        )

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps(self.snapshot(), option=orjson.OPT_NON_STR_KEYS),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


#: the page loads nothing from anywhere: inline style and script only, JSON from its own origin
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
