from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    """Start a simulated vLLM fleet serving ``model`` (time scale 0: answers at once); returns its URLs."""
    fleets: list[SimFleet] = []

    async def make(model: str, **overrides: Any) -> list[str]:
        overrides.setdefault("time_scale", 0.0)
        fleet = SimFleet(FleetSpec.quick(model=model, **overrides))
        await fleet.start()
        fleets.append(fleet)
        return [replica.url for replica in fleet.replicas]

    yield make
    for fleet in fleets:
        await fleet.stop()
