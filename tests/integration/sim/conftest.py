from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def fleet_factory() -> AsyncIterator[Any]:
    fleets: list[SimFleet] = []

    async def make(spec: FleetSpec | None = None, **quick: Any) -> SimFleet:
        if spec is None:
            quick.setdefault("model", "m")
            quick.setdefault("time_scale", 0.0)
            spec = FleetSpec.quick(**quick)
        fleet = SimFleet(spec)
        await fleet.start()
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        await fleet.stop()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session
