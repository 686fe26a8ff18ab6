"""The simulator's own cost: requests per second per CPU core at zero simulated latency.

The simulator must never be the bottleneck of a proxy benchmark. This runs ``inferlane sim`` (preset
``zero``, ``timeScale: 0``) in its own process, drives it with a concurrent aiohttp client for a bounded
number of requests, and divides the requests served by the CPU seconds the simulator process used
(from /proc), so the figure does not depend on how fast the load generator is.

    python -m bench.sim_cost [--requests 10000] [--concurrency 32] [--tokens 16]

Prints a table and writes bench/results/sim_cost.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import cpu_seconds

RESULTS = Path(__file__).resolve().parent / "results" / "sim_cost.json"
_URL = re.compile(rb"at (http://\S+)")


def start_sim() -> tuple[subprocess.Popen[bytes], str]:
    cmd = [sys.executable, "-m", "inferlane", "sim", "--model", "bench", "--port", "0", "--time-scale", "0",
           "--preset", "zero"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = _URL.search(line)
    if not match:
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, match.group(1).decode()


async def drive(url: str, body: dict[str, Any], requests: int, concurrency: int) -> tuple[int, int, float]:
    """Send ``requests`` requests with ``concurrency`` workers; returns (ok, errors, wall seconds)."""
    counter = iter(range(requests))
    ok = errors = 0
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok, errors
        for _ in counter:
            async with session.post(url + "/v1/chat/completions", data=payload, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    ok += 1
                else:
                    errors += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return ok, errors, time.perf_counter() - start


async def served(url: str) -> float:
    """Requests the simulator itself counts as finished (``vllm:request_success_total``)."""
    async with aiohttp.ClientSession() as session, session.get(url + "/metrics") as response:
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vllm:request_success_total")
    )


def measure(url: str, pid: int, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "bench",
        "messages": [{"role": "user", "content": "Benchmark the simulator, please."}],
        "max_tokens": args.tokens,
        "ignore_eos": True,
        "stream": mode == "streaming",
    }
    asyncio.run(drive(url, body, min(200, args.requests), args.concurrency))  # warm-up
    before, cpu0 = asyncio.run(served(url)), cpu_seconds(pid)
    ok, errors, wall = asyncio.run(drive(url, body, args.requests, args.concurrency))
    cpu = cpu_seconds(pid) - cpu0
    if asyncio.run(served(url)) - before != ok:
        raise RuntimeError("the simulator's own count of finished requests does not match the client's")
    return {
        "mode": mode,
        "requests": ok,
        "errors": errors,
        "tokens_per_request": args.tokens,
        "concurrency": args.concurrency,
        "wall_s": round(wall, 3),
        "sim_cpu_s": round(cpu, 3),
        "requests_per_s_wall": round(ok / wall, 1),
        "requests_per_cpu_s": round(ok / cpu, 1) if cpu > 0 else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10000, help="requests per mode (bounded run)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=16, help="output tokens per request")
    args = parser.parse_args(argv)
    proc, url = start_sim()
    try:
        rows = [measure(url, proc.pid, mode, args) for mode in ("plain", "streaming")]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"{'mode':<10} {'requests':>8} {'errors':>6} {'wall rps':>9} {'sim CPU s':>9} {'req/s per core':>15}"
    )
    for row in rows:
        print(f"{row['mode']:<10} {row['requests']:>8} {row['errors']:>6} {row['requests_per_s_wall']:>9} "
              f"{row['sim_cpu_s']:>9} {row['requests_per_cpu_s']:>15}")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    RESULTS.write_text(
        json.dumps({"benchmark": "sim_cost", "environment": meta, "results": rows}, indent=2) + "\n"
    )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
