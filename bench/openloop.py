"""Open-loop load at a fixed rate over N keep-alive connections, evenly spaced (no bursts).

Latency is measured from the scheduled send time (coordinated-omission corrected) and from the actual
send (uncorrected); both are reported. Bounded by count and time.
"""

from __future__ import annotations

import asyncio
import time

from bench.rawhttp import CHAT_BODY, Connection, request_bytes
from bench.stats import percentiles


async def fixed_rate(
    port: int, rate: float, seconds: float, connections: int = 16, auth: str | None = None
) -> dict[str, float]:
    payload = request_bytes("/v1/chat/completions", CHAT_BODY, port, auth=auth)
    conns = [await Connection.open(port) for _ in range(connections)]
    total = int(rate * seconds)
    interval = 1.0 / rate
    uncorrected: list[float] = []
    corrected: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.05

    async def worker(index: int) -> None:
        nonlocal errors
        conn = conns[index]
        for n in range(index, total, connections):
            scheduled = start + n * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.perf_counter()
            timing = await conn.exchange(payload)
            if timing.status != 200:
                errors += 1
            done = sent + timing.total
            uncorrected.append(timing.total)
            corrected.append(done - scheduled)

    try:
        async with asyncio.timeout(seconds * 3 + 10):
            await asyncio.gather(*(worker(i) for i in range(connections)))
    finally:
        for conn in conns:
            conn.close()
    result = {f"{k}": v * 1000 for k, v in percentiles(uncorrected).items()}
    result["p99_corrected"] = percentiles(corrected)["p99"] * 1000
    result["errors"] = errors
    result["samples"] = len(uncorrected)
    return result
