"""An endpoint's load signals as last observed, each source stamped with the time it spoke.

Two sources write here: ORCA response headers (queue and KV usage, on every response that carries one) and
the metrics scraper (everything: queue, running, KV usage, LoRA state, sleep state, KV geometry). Picking
reads a view of it and ignores what is older than the profile's staleness bound (see picking/filters.py).
"""

from __future__ import annotations

from inferlane.discovery.load_report import LoadReport


class EndpointSignals:
    __slots__ = (
        "at",
        "block_size",
        "kv_usage",
        "loras_loaded",
        "loras_waiting",
        "max_loras",
        "num_gpu_blocks",
        "queue_depth",
        "running",
        "scrape_failures",
        "scraped_at",
        "sleeping",
    )

    def __init__(self) -> None:
        self.queue_depth: int | None = None
        self.running: int | None = None
        self.kv_usage: float | None = None
        self.loras_loaded: frozenset[str] = frozenset()
        self.loras_waiting: frozenset[str] = frozenset()
        self.max_loras: int | None = None
        self.sleeping = False
        self.num_gpu_blocks: int | None = None
        self.block_size = 16
        #: when any source last reported (None: never)
        self.at: float | None = None
        #: when the metrics page was last read successfully
        self.scraped_at: float | None = None
        self.scrape_failures = 0

    def apply(self, report: LoadReport, now: float, *, scraped: bool = False) -> None:
        if report.queue_depth is not None:
            self.queue_depth = report.queue_depth
        if report.running is not None:
            self.running = report.running
        if report.kv_usage is not None:
            self.kv_usage = report.kv_usage
        if report.loras_loaded is not None:
            self.loras_loaded = report.loras_loaded
        if report.loras_waiting is not None:
            self.loras_waiting = report.loras_waiting
        if report.max_loras is not None:
            self.max_loras = report.max_loras
        if report.sleeping is not None:
            self.sleeping = report.sleeping
        if report.num_gpu_blocks is not None and report.block_size is not None:
            self.num_gpu_blocks, self.block_size = report.num_gpu_blocks, report.block_size
        self.at = now
        if scraped:
            self.scraped_at = now
            self.scrape_failures = 0

    def age(self, now: float) -> float | None:
        return None if self.at is None else now - self.at
