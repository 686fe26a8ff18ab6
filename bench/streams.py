"""Streaming load: TTFT (first body byte) and total stream time at a given concurrency."""

from __future__ import annotations

import asyncio

from bench.rawhttp import CHAT_BODY, Connection, request_bytes
from bench.stats import percentiles


async def streams(
    port: int, concurrency: int, count: int, body: bytes = CHAT_BODY, auth: str | None = None
) -> dict[str, float]:
    payload = request_bytes("/v1/chat/completions", body, port, stream=True, auth=auth)
    ttft: list[float] = []
    totals: list[float] = []
    errors = 0
    remaining = count

    async def worker() -> None:
        nonlocal remaining, errors
        conn = await Connection.open(port)
        try:
            while remaining > 0:
                remaining -= 1
                timing = await conn.exchange(payload, timeout=60)
                if timing.status != 200:
                    errors += 1
                ttft.append(timing.first_byte)
                totals.append(timing.total)
        finally:
            conn.close()

    async with asyncio.timeout(300):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    t, s = percentiles(ttft), percentiles(totals)
    return {
        "ttft_p50": t["p50"] * 1000,
        "ttft_p99": t["p99"] * 1000,
        "total_p50": s["p50"] * 1000,
        "total_p99": s["p99"] * 1000,
        "errors": errors,
    }
