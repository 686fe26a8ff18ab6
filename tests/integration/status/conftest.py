from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def sim_fleet() -> AsyncIterator[Callable[..., Awaitable[SimFleet]]]:
    """Start simulated vLLM fleets (instant timing unless the spec says otherwise); stopped after the test."""
    fleets: list[SimFleet] = []

    async def make(spec: FleetSpec | None = None, **quick: Any) -> SimFleet:
        if spec is None:
            quick.setdefault("model", "m")
            quick.setdefault("time_scale", 0.0)
            spec = FleetSpec.quick(**quick)
        fleet = SimFleet(spec)
        await fleet.start()
        fleets.append(fleet)
        await fleet.wait_ready()
        return fleet

    yield make
    for fleet in fleets:
        await fleet.stop()
