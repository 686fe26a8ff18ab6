"""The load-signal scraper: read every endpoint's metrics page on a short jittered interval.

One loop per backend, owned by the backend (started with it, cancelled when it closes, with the scrapes it
started). Every interval it starts a scrape of each endpoint that is not still being scraped, with bounded
concurrency and a per-scrape timeout; a failed or slow scrape leaves
the endpoint's signals as they were, so they age past the picking staleness bound and picking falls back
to the proxy's own counters. Parsing looks only at the lines of the known metric families
(discovery/load_report.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
from functools import partial

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
        #: endpoints whose scrape is still in flight (a slow one is not started again, nor waited for)
        self._busy: dict[str, asyncio.Task[bool]] = {}

    async def run(self) -> None:
        """Every interval, start a scrape of each endpoint not still being scraped; never wait for a
        slow endpoint, so one hung metrics page cannot age every other endpoint's signals."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                for state in list(self.pool.states.values()):
                    key = state.endpoint.id
                    if key not in self._busy:
                        task = loop.create_task(self.scrape(state), name=f"scrape:{key}")
                        self._busy[key] = task
                        task.add_done_callback(partial(self._done, key))
                self.rounds += 1
                # ±20% jitter so sidecars do not scrape a fleet in lockstep
                await asyncio.sleep(self.config.interval * self.rng.uniform(0.8, 1.2))
        finally:
            tasks = list(self._busy.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, key: str, task: asyncio.Task[bool]) -> None:
        if self._busy.get(key) is task:
            del self._busy[key]

    async def scrape_all(self) -> None:
        """One scrape of every endpoint, waited for (tests, first fill)."""
        await asyncio.gather(*(self.scrape(state) for state in list(self.pool.states.values())))

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
        geometry = (signals.num_gpu_blocks, signals.block_size)
        report = parse_metrics(body.decode("utf-8", "replace"), self.config.flavor)
        state.observe(report, self.pool.clock(), scraped=True)
        if (signals.num_gpu_blocks, signals.block_size) != geometry:
            self.pool.picker.sync(list(self.pool.states.values()))  # size the prefix index to the KV cache
        return True
