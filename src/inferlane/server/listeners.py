"""The two listeners: the application port on aiohttp's low-level server, the admin port on an app."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from inferlane.config.schema import ServerConfig
from inferlane.server.edge import Edge


class Listeners:
    def __init__(self, config: ServerConfig, edge: Edge, admin: web.Application) -> None:
        self.config = config
        self.edge = edge
        self.admin = admin
        self._server: web.Server | None = None
        self._listener: asyncio.Server | None = None
        self._admin_runner: web.AppRunner | None = None
        self.port = config.port
        self.admin_port = config.admin_port

    async def start(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        self._server = web.Server(
            self.edge,
            handler_cancellation=True,
            access_log=None,
            max_field_size=config.max_header_size,
            max_line_size=config.max_header_size,
            keepalive_timeout=config.keepalive_timeout,
        )
        self._listener = await loop.create_server(
            self._server, config.host, config.port, backlog=4096, reuse_address=True
        )
        self.port = _bound_port(self._listener)
        runner = web.AppRunner(self.admin, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, config.admin_host, config.admin_port, reuse_address=True)
        await site.start()
        self._admin_runner = runner
        assert site._server is not None
        self.admin_port = _bound_port(site._server)  # type: ignore[arg-type]

    async def stop(self, timeout: float) -> None:
        """Stop accepting, let in-flight requests finish (bounded), then close the admin port."""
        if self._listener is not None:
            self._listener.close()
        if self._server is not None:
            # close idle keep-alive connections now; busy ones close once their request is done
            self._server.pre_shutdown()
            await self._server.shutdown(timeout)
        if self._admin_runner is not None:
            await self._admin_runner.cleanup()


def _bound_port(server: asyncio.Server) -> int:
    for sock in server.sockets:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            return int(sock.getsockname()[1])
    raise RuntimeError("listener has no TCP socket")
