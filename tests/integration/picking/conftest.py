from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def fleet() -> AsyncIterator[Any]:
    fleets: list[SimFleet] = []

    async def make(**quick: Any) -> SimFleet:
        quick.setdefault("model", "m")
        quick.setdefault("time_scale", 0.0)
        f = SimFleet(FleetSpec.quick(**quick))
        await f.start()
        fleets.append(f)
        return f

    yield make
    for f in fleets:
        await f.stop()
