from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest


@pytest.fixture
def fleet_factory(sim_fleet: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Fleets as started, not waited for: the simulator's own tests look at model loading too."""
    return functools.partial(sim_fleet, ready=False)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session
