from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from routes_fleet import SIZES

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def seed_fleet() -> AsyncIterator[SimFleet]:
    """Three simulated vLLM servers, one per model size, answering at once."""
    spec = FleetSpec.from_dict({"timeScale": 0.0, "models": [{"name": model} for _, model in SIZES]})
    fleet = SimFleet(spec)
    await fleet.start()
    yield fleet
    await fleet.stop()
