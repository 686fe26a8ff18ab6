from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
import pytest
from aiohttp import web

from inferlane.sim import SimFleet


@pytest.fixture
def sim(sim_fleet: Callable[..., Awaitable[SimFleet]]) -> Callable[..., Awaitable[SimFleet]]:
    """``await sim(**quick)``: a started simulator fleet (model ``m``, fast but not instant by default)."""

    async def make(**quick: Any) -> SimFleet:
        quick.setdefault("time_scale", 0.001)
        return await sim_fleet(ready=False, **quick)

    return make


@pytest.fixture
async def openai_client() -> AsyncIterator[Any]:
    clients: list[openai.AsyncOpenAI] = []

    def make(url: str) -> openai.AsyncOpenAI:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


TracesHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def otlp_endpoint() -> AsyncIterator[Callable[[TracesHandler], Awaitable[str]]]:
    """``await otlp_endpoint(handler)``: the URL of a loopback OTLP/HTTP ``/v1/traces`` endpoint whose
    exports ``handler`` answers; stopped after the test."""
    runners: list[web.AppRunner] = []

    async def start(handler: TracesHandler) -> str:
        app = web.Application()
        app.router.add_post("/v1/traces", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/v1/traces"

    yield start
    for runner in runners:
        await runner.cleanup()
