"""Scale checks for Inferlane alone: 1,000 concurrent streams (TTFT added, RSS), a 220 KB prompt at
concurrency 150 (TTFT added), and RSS over a soak at a steady rate."""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.openloop import fixed_rate
from bench.overhead import CLIENT_CPU, PROXY_CPU
from bench.paths import PATHS, environment
from bench.procs import free_port, rss_mib, running
from bench.rawhttp import CHAT_BODY
from bench.streams import streams

BIG_BODY = CHAT_BODY[:-3] + b', "extra": "' + b"lorem ipsum " * 18_500 + b'"}]}'


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _held(port: int, held: int, ramp: float, probes: int) -> dict[str, float]:
    """Open ``held`` long streams spread over ``ramp`` seconds, then measure the TTFT of ``probes`` new
    streams while all of them are held."""
    tasks = []
    for _ in range(held):
        tasks.append(asyncio.ensure_future(streams(port, 1, 1)))
        await asyncio.sleep(ramp / held)
    await asyncio.sleep(0.5)
    probe = await streams(port, probes, probes)
    results = await asyncio.gather(*tasks)
    return {**probe, "errors": probe["errors"] + sum(r["errors"] for r in results)}


def _held_pair(upstream: int, proxy: int, held: int) -> dict[str, float]:
    direct = asyncio.run(_held(upstream, held, 2.0, 20))
    proxied = asyncio.run(_held(proxy, held, 2.0, 20))
    return {
        "added_ttft_p50": proxied["ttft_p50"] - direct["ttft_p50"],
        "added_ttft_p99": proxied["ttft_p99"] - direct["ttft_p99"],
        "errors": proxied["errors"],
    }


def _streams_pair(upstream: int, proxy: int, concurrency: int, count: int, body: bytes) -> dict[str, float]:
    direct = asyncio.run(streams(upstream, concurrency, count, body=body))
    proxied = asyncio.run(streams(proxy, concurrency, count, body=body))
    return {
        "direct_ttft_p50": direct["ttft_p50"],
        "proxied_ttft_p50": proxied["ttft_p50"],
        "added_ttft_p50": proxied["ttft_p50"] - direct["ttft_p50"],
        "added_ttft_p99": proxied["ttft_p99"] - direct["ttft_p99"],
        "errors": proxied["errors"],
    }


def run(quick: bool, soak_seconds: float) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    path = PATHS[0]
    env = environment(path)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        slow_sse, plain = free_port(), free_port()
        port = free_port()
        # 50 events 0.25 s apart: each held stream lasts ~12 s, long enough to probe while all are open
        sse_argv = [sys.executable, "-m", "bench.upstream_server", "sse", str(slow_sse), "0.25"]
        plain_argv = [sys.executable, "-m", "bench.upstream_server", "plain", str(plain)]
        with running(sse_argv, CLIENT_CPU, slow_sse, env), running(plain_argv, CLIENT_CPU, plain, env):
            argv = path.argv(port, slow_sse, scratch)
            assert argv is not None
            with running(argv, PROXY_CPU, port, env) as pid, RssSampler(pid) as sampler:
                out["idle_rss_mib"] = rss_mib(pid)
                n = 300 if quick else 1000
                out["streams_1000"] = _held_pair(slow_sse, port, n)
                out["streams_1000"]["concurrency"] = n
                out["streams_1000"]["peak_rss_mib"] = sampler.peak
                out["prompt_220k_c150"] = _streams_pair(slow_sse, port, 150, 150 if quick else 300, BIG_BODY)
            argv = path.argv(port, plain, scratch)
            assert argv is not None
            with running(argv, PROXY_CPU, port, env) as pid:
                asyncio.run(fixed_rate(port, 200, 5))
                start_rss = rss_mib(pid)
                began = time.monotonic()
                asyncio.run(fixed_rate(port, 200, soak_seconds))
                end_rss = rss_mib(pid)
                out["soak"] = {
                    "seconds": round(time.monotonic() - began),
                    "rss_start_mib": start_rss,
                    "rss_end_mib": end_rss,
                    "growth_pct": (end_rss / start_rss - 1) * 100,
                }
    return out


def table(result: dict[str, Any]) -> str:
    s, p, soak = result["streams_1000"], result["prompt_220k_c150"], result["soak"]
    return "\n".join(
        [
            "### Scale (Inferlane only; ms and MiB)",
            "",
            "| check | result | target |",
            "|---|---|---|",
            f"| TTFT of new streams while {s['concurrency']} streams are held: added p50 / p99 | {s['added_ttft_p50']:+.2f} / "
            f"{s['added_ttft_p99']:+.2f} | ≤ 5 ms |",
            f"| {s['concurrency']} concurrent streams: peak RSS | {s['peak_rss_mib']:.0f} (idle {result['idle_rss_mib']:.0f}) "
            "| ≤ 200 MB |",
            f"| 220 KB prompt, concurrency 150: TTFT added p50 / p99 | {p['added_ttft_p50']:+.2f} / "
            f"{p['added_ttft_p99']:+.2f} | ≤ 100 ms |",
            f"| RSS over a {soak['seconds']} s soak at 200 req/s | {soak['rss_start_mib']:.1f} → {soak['rss_end_mib']:.1f} "
            f"({soak['growth_pct']:+.1f}%) | within 10% |",
            f"| errors | {s['errors'] + p['errors']} | 0 |",
        ]
    )
