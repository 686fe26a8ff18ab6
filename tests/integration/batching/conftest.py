from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from batch_probe import EmbedUpstream

from inferlane.sim import SimFleet


@pytest.fixture
def sim(sim_fleet: Callable[..., Awaitable[SimFleet]]) -> Callable[..., Awaitable[SimFleet]]:
    """Start one simulated model (``kind``: vllm, tei, tfserving, kserve) with instant timing by default."""

    def make(kind: str, model: str = "m", **quick: Any) -> Awaitable[SimFleet]:
        return sim_fleet(model=model, kind=kind, **quick)

    return make


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
