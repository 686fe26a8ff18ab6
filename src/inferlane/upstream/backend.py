"""A backend: its pool (state, picking), HTTP client and background producers (health checks, load-signal
scraping, DNS discovery), started and closed together."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from inferlane.config.picking import LLM_ENGINES
from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.discovery.dns import DnsProducer
from inferlane.discovery.health import HealthChecker
from inferlane.discovery.producer import EndpointProducer
from inferlane.discovery.scraper import MetricsScraper
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
        signals = config.load_signals
        llm = config.engine in LLM_ENGINES
        scrape = signals.scrape if signals.scrape is not None else llm
        #: ask for (and read) vLLM's ORCA load header on every request
        self.orca = signals.orca if signals.orca is not None else llm
        self.scraper = MetricsScraper(self.pool, self.client.session, signals, rng) if scrape else None
        dns = config.discovery.dns
        self.producer: EndpointProducer | None = DnsProducer(config.name, dns, rng) if dns else None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if self._tasks:
            return
        if self.pool.health_checked:
            self._spawn(self.health.run(), "health")
        if self.scraper is not None:
            self._spawn(self.scraper.run(), "signals")
        if self.producer is not None:
            self._spawn(self.producer.run(self.pool.set_endpoints), self.producer.kind)

    def _spawn(self, coro: Coroutine[Any, Any, None], kind: str) -> None:
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(coro, name=f"{kind}:{self.name}"))

    async def aclose(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.aclose()
