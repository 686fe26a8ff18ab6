"""One simulated server on its own port: binds first (so port 0 gets a real port at once), then listens
after ``startupDelay.refuse`` (connections are refused until then), answers ``/health`` with 503 for
``startupDelay.loading``, then is ready."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from aiohttp import web

from inferlane.sim.context import ReplicaContext
from inferlane.sim.faults import FaultControl
from inferlane.sim.routes import build_app


class Replica:
    def __init__(self, ctx: ReplicaContext, host: str, port: int) -> None:
        self.ctx = ctx
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._startup: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def model(self) -> str:
        return self.ctx.model

    @property
    def kind(self) -> str:
        return self.ctx.kind

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def faults(self) -> FaultControl:
        return self.ctx.faults

    def bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]

    async def start(self) -> None:
        if self._sock is None:
            self.bind()
        runner = web.AppRunner(
            build_app(self.ctx), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        self._runner = runner
        self.ctx.runner.start()
        delay = self.ctx.spec.startup_delay
        if delay.refuse or delay.loading:
            self._startup = asyncio.get_running_loop().create_task(
                self._start_later(), name=f"sim-start-{self.name}"
            )
        else:
            await self._listen()
            self._set_ready()

    async def _listen(self) -> None:
        assert self._runner is not None and self._sock is not None
        await web.SockSite(self._runner, self._sock, backlog=1024).start()

    async def _start_later(self) -> None:
        delay = self.ctx.spec.startup_delay
        await asyncio.sleep(delay.refuse)
        await self._listen()
        self.ctx.phase = "loading"
        await asyncio.sleep(delay.loading)
        self._set_ready()

    def _set_ready(self) -> None:
        self.ctx.phase = "ready"
        self._ready.set()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    async def stop(self) -> None:
        if self._startup is not None:
            self._startup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._startup
            self._startup = None
        await self.ctx.runner.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
