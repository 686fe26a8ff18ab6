from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from batch_probe import EmbedUpstream

from inferlane.sim import FleetSpec, SimFleet


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    """Start one simulated model (``kind``: vllm, tei, tfserving, kserve) with instant timing by default."""
    fleets: list[SimFleet] = []

    async def make(kind: str, model: str = "m", **quick: Any) -> SimFleet:
        quick.setdefault("time_scale", 0.0)
        fleet = SimFleet(FleetSpec.quick(model=model, kind=kind, **quick))
        await fleet.start()
        await fleet.wait_ready()
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        await fleet.stop()


@pytest.fixture
async def embed_upstream() -> AsyncIterator[Any]:
    started: list[EmbedUpstream] = []

    async def make(**kwargs: Any) -> EmbedUpstream:
        upstream = await EmbedUpstream(**kwargs).start()
        started.append(upstream)
        return upstream

    yield make
    for upstream in started:
        if upstream.gate is not None:
            upstream.gate.set()
        await upstream.stop()
