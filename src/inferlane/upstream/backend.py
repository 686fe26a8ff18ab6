"""A backend: its pool (state, picking), HTTP client and health checker, started and closed together."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.discovery.health import HealthChecker
from inferlane.upstream.client import UpstreamClient
from inferlane.upstream.pool import BackendPool


class Backend:
    def __init__(
        self,
        config: BackendConfig,
        breaker: CircuitBreakerConfig,
        health: HealthCheckConfig,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.name = config.name
        self.config = config
        #: what decides whether a reload may keep this backend (and its connections and state)
        self.fingerprint = (config, breaker, health)
        self.pool = BackendPool(config, breaker, health, clock, rng)
        self.client = UpstreamClient(config)
        self.health = HealthChecker(self.pool, self.client.session, health, rng)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.pool.health_checked and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.health.run(), name=f"health:{self.name}")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.client.aclose()
