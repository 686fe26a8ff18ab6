"""Active health checks: probe every endpoint of a pool on an interval and feed its health state."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import aiohttp

from inferlane.config.schema import HealthCheckConfig
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.pool import BackendPool

log = logging.getLogger("inferlane.health")


class HealthChecker:
    def __init__(
        self, pool: BackendPool, session: aiohttp.ClientSession, config: HealthCheckConfig, rng: random.Random
    ) -> None:
        self.pool = pool
        self.session = session
        self.config = config
        self.rng = rng
        #: completed probe rounds; readiness waits for the first
        self.rounds = 0
        #: observer of passing probes (model load time); set by the composition root
        self.on_ok: Callable[[EndpointState], None] | None = None

    async def run(self) -> None:
        while True:
            states = list(self.pool.states.values())
            await asyncio.gather(*(self.probe(state) for state in states))
            self.rounds += 1
            # ±10% jitter so a fleet of sidecars does not probe in lockstep
            await asyncio.sleep(self.config.interval * self.rng.uniform(0.9, 1.1))

    async def probe(self, state: EndpointState) -> None:
        url = state.endpoint.url + self.config.endpoint
        try:
            async with asyncio.timeout(self.config.timeout):
                async with self.session.get(url, allow_redirects=False) as response:
                    await response.read()
                    ok = 200 <= response.status < 300
        except (TimeoutError, aiohttp.ClientError, OSError):
            ok = False
        if ok and self.on_ok is not None:
            self.on_ok(state)
        changed = state.probe(ok)
        if changed is not None:
            log.warning(
                "endpoint health changed",
                extra={"backend": self.pool.name, "endpoint": state.endpoint.authority, "healthy": changed},
            )
