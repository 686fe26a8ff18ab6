from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    """``await sim(**quick)``: a started simulator fleet (model ``m``, fast but not instant by default)."""
    fleets: list[SimFleet] = []

    async def make(**quick: Any) -> SimFleet:
        quick.setdefault("model", "m")
        quick.setdefault("time_scale", 0.001)
        fleet = SimFleet(FleetSpec.quick(**quick))
        await fleet.start()
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        await fleet.stop()


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
