"""The load-signal scraper: read every endpoint's metrics page on a short jittered interval.

One loop per backend, owned by the backend (started with it, cancelled when it closes). Each round reads
all endpoints at once with bounded concurrency and a per-scrape timeout; a failed or slow scrape leaves
the endpoint's signals as they were, so they age past the picking staleness bound and picking falls back
to the proxy's own counters. Parsing looks only at the lines of the known metric families
(discovery/load_report.py).
"""

from __future__ import annotations

import asyncio
import logging
import random

import aiohttp

from inferlane.config.picking import LoadSignalsConfig
from inferlane.discovery.load_report import FLAVOR_PATHS, parse_metrics
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.pool import BackendPool

log = logging.getLogger("inferlane.signals")


class MetricsScraper:
    def __init__(
        self,
        pool: BackendPool,
        session: aiohttp.ClientSession,
        config: LoadSignalsConfig,
        rng: random.Random,
    ) -> None:
        self.pool = pool
        self.session = session
        self.config = config
        self.rng = rng
        self.path = config.metrics_path or FLAVOR_PATHS.get(config.flavor, "/metrics")
        self.rounds = 0
        self._gate = asyncio.Semaphore(config.max_concurrency)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.config.interval
        while True:
            started = loop.time()
            await self.scrape_all()
            self.rounds += 1
            # ±20% jitter so sidecars do not scrape a fleet in lockstep
            pause = interval * self.rng.uniform(0.8, 1.2) - (loop.time() - started)
            await asyncio.sleep(max(pause, interval * 0.2))

    async def scrape_all(self) -> None:
        states = list(self.pool.states.values())
        geometry = [(s.signals.num_gpu_blocks, s.signals.block_size) for s in states]
        await asyncio.gather(*(self.scrape(state) for state in states))
        if geometry != [(s.signals.num_gpu_blocks, s.signals.block_size) for s in states]:
            self.pool.picker.sync(states)

    async def scrape(self, state: EndpointState) -> bool:
        url = state.endpoint.url + self.path
        try:
            async with (
                self._gate,
                asyncio.timeout(self.config.timeout),
                self.session.get(url, allow_redirects=False) as response,
            ):
                body = await response.read()
                ok = response.status == 200
        except (TimeoutError, aiohttp.ClientError, OSError):
            ok, body = False, b""
        signals = state.signals
        if not ok:
            signals.scrape_failures += 1
            if signals.scrape_failures == 3:
                log.warning(
                    "endpoint metrics unreadable; its load signals will go stale",
                    extra={
                        "backend": self.pool.name,
                        "endpoint": state.endpoint.authority,
                        "path": self.path,
                    },
                )
            return False
        report = parse_metrics(body.decode("utf-8", "replace"), self.config.flavor)
        signals.apply(report, self.pool.clock(), scraped=True)
        return True
