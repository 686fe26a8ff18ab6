from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from inferlane.sim import FleetSpec, SimFleet
from support.proxy import RunningProxy, start_proxy
from support.upstream import FakeUpstream


@pytest.fixture
async def upstreams() -> AsyncIterator[Callable[..., Awaitable[FakeUpstream]]]:
    started: list[FakeUpstream] = []

    async def make(**kwargs: Any) -> FakeUpstream:
        upstream = await FakeUpstream(**kwargs).start()
        started.append(upstream)
        return upstream

    yield make
    for upstream in started:
        await upstream.stop()


@pytest.fixture
async def proxies() -> AsyncIterator[Callable[..., Awaitable[RunningProxy]]]:
    started: list[RunningProxy] = []

    async def make(config: dict[str, Any], config_path: str | None = None) -> RunningProxy:
        proxy = await start_proxy(config, config_path)
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        await proxy.app.shutdown()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def sim_fleet() -> AsyncIterator[Callable[..., Awaitable[SimFleet]]]:
    """``await sim_fleet(spec=None, *, ready=True, **quick)``: a started simulator fleet (``FleetSpec.quick``
    with model ``m`` and instant timing unless told otherwise), stopped after the test."""
    fleets: list[SimFleet] = []

    async def make(spec: FleetSpec | None = None, *, ready: bool = True, **quick: Any) -> SimFleet:
        if spec is None:
            quick.setdefault("model", "m")
            quick.setdefault("time_scale", 0.0)
            spec = FleetSpec.quick(**quick)
        fleet = SimFleet(spec)
        await fleet.start()
        fleets.append(fleet)
        if ready:
            await fleet.wait_ready()
        return fleet

    yield make
    for fleet in fleets:
        await fleet.stop()
