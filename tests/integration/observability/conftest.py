from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
import pytest

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
