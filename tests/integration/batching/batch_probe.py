"""Helpers shared by the batching integration tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from inferlane.sim import SimFleet
from support.proxy import proxy_config


def batching_config(
    backend_url: str,
    path: str,
    engine: str = "generic",
    route: dict[str, Any] | None = None,
    **batching: Any,
) -> dict[str, Any]:
    """A proxy config with one batching route on ``path`` to one backend."""
    settings = {"enabled": True, "maxBatchSize": 8, "maxWaitTimeMs": 5000, "strategy": "fixed"}
    settings.update(batching)
    config = proxy_config({"model": [backend_url]}, batching=settings)
    config["backends"][0]["engine"] = engine
    config["routing"] = {
        "endpoints": [{"path": path, "backend": "model", "batchEnabled": True, **(route or {})}]
    }
    config["retry"] = {"attempts": 0}
    return config


def device_batches(fleet: SimFleet) -> list[int]:
    """(batches, items) the simulated device ran, over all replicas."""
    stats = [replica.ctx.device.stats for replica in fleet.replicas]
    return [sum(s.batches for s in stats), sum(s.items for s in stats)]


def metric(text: str, name: str) -> float:
    """The value of one exposition line (``name`` includes its labels), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@dataclass
class EmbedUpstream:
    """A real loopback OpenAI-embeddings server that records every call's inputs.

    ``gate`` (when set) holds every call until it is opened; ``fail_first`` answers that many calls with
    503; ``drop_one`` answers one result too few; inputs containing ``POISON`` make the whole call a 400.
    """

    calls: list[list[str]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    fail_first: int = 0
    drop_one: bool = False
    in_flight: int = 0
    max_in_flight: int = 0
    #: calls whose client (the proxy) hung up while they were held at the gate
    cancelled: int = 0
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> EmbedUpstream:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self.embeddings)
        self.runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        self.calls.append(inputs)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.json_response({"error": {"message": "overloaded", "type": "server_error"}}, status=503)
        if any("POISON" in text for text in inputs):
            error = {"message": "input contains POISON", "type": "invalid_request_error"}
            return web.json_response({"error": error}, status=400)
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(inputs)]
        if self.drop_one:
            data = data[:-1]
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        return web.json_response({"object": "list", "model": body["model"], "data": data, "usage": usage})


def vector(text: str) -> list[float]:
    """What EmbedUpstream answers for a text: a function of the text alone."""
    return [float(len(text)), float(sum(map(ord, text)) % 997)]
