"""What the simulator's integration tests share: reading /metrics, request bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from inferlane.sim import SimFleet

FleetFactory = Callable[..., Awaitable[SimFleet]]
Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: aiohttp.ClientSession, url: str) -> Metrics:
    """``/metrics`` as {(sample name, sorted labels): value}."""
    async with client.get(url + "/metrics") as response:
        assert response.status == 200
        text = await response.text()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(v for (n, lb), v in metrics.items() if n == name and set(labels.items()) <= set(lb))


def chat_body(content: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}
