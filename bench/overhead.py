"""Proxy overhead: every path in front of the same near-zero-cost upstreams, interleaved by round.

Core split (as in docs/benchmarks.md): the proxy under test pinned to CPU 1; this process (the load
generators), wrk and the upstreams on CPU 0.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.openloop import fixed_rate
from bench.paths import PATHS, ProxyPath, environment
from bench.procs import free_port, running, tree_cpu_seconds
from bench.rawhttp import CHAT_BODY
from bench.streams import streams

PROXY_CPU, CLIENT_CPU = 1, 0
WRK_LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


def wrk(port: int, seconds: float, auth: str | None, scratch: Path) -> tuple[float, int]:
    script = scratch / "post.lua"
    header = f'wrk.headers["Authorization"] = "Bearer {auth}"' if auth else ""
    script.write_text(WRK_LUA.format(body=CHAT_BODY.decode(), auth=header))
    out = subprocess.run(
        [
            "taskset",
            "-c",
            str(CLIENT_CPU),
            "wrk",
            "-t1",
            "-c64",
            f"-d{seconds:g}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/v1/chat/completions",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"    warning: {non2xx.group(1)} non-2xx responses", file=sys.stderr)
    return rate, count


def measure_plain(path: ProxyPath | None, upstream: int, quick: bool, scratch: Path) -> dict[str, Any]:
    duration = 3 if quick else 10
    if path is None:
        rate, _ = wrk(upstream, duration, None, scratch)
        latency = asyncio.run(fixed_rate(upstream, 200, 3 if quick else 8))
        return {"rps": rate, **{f"lat_{k}": v for k, v in latency.items()}}
    port = free_port()
    argv = path.argv(port, upstream, scratch)
    assert argv is not None
    with running(argv, PROXY_CPU, port, environment(path)) as pid:
        wrk(port, 2, path.auth, scratch)  # warm-up
        before = tree_cpu_seconds(pid)
        rate, count = wrk(port, duration, path.auth, scratch)
        if count == 0:
            raise RuntimeError(f"{path.name} answered no request")
        cpu_us = (tree_cpu_seconds(pid) - before) / count * 1e6
        latency = asyncio.run(fixed_rate(port, 200, 3 if quick else 8, auth=path.auth))
    return {"rps": rate, "cpu_us": cpu_us, **{f"lat_{k}": v for k, v in latency.items()}}


def measure_streams(path: ProxyPath | None, upstream: int, quick: bool, scratch: Path) -> dict[str, Any]:
    def run(port: int, auth: str | None) -> dict[str, Any]:
        c1 = asyncio.run(streams(port, 1, 10 if quick else 30, auth=auth))
        c32 = asyncio.run(streams(port, 32, 64 if quick else 160, auth=auth))
        return {**{f"c1_{k}": v for k, v in c1.items()}, **{f"c32_{k}": v for k, v in c32.items()}}

    if path is None:
        return run(upstream, None)
    port = free_port()
    argv = path.argv(port, upstream, scratch)
    assert argv is not None
    with running(argv, PROXY_CPU, port, environment(path)):
        asyncio.run(streams(port, 4, 8, auth=path.auth))  # warm-up
        return run(port, path.auth)


def available(paths: list[ProxyPath], scratch: Path) -> list[ProxyPath]:
    out = []
    for path in paths:
        if path.argv(1, 2, scratch) is None:
            print(f"  skipping {path.name}: not installed (run bench/setup.sh)")
        else:
            out.append(path)
    return out


def run(rounds: int, quick: bool, only: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    os.sched_setaffinity(0, {CLIENT_CPU})
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        chosen = [p for p in PATHS if only is None or p.name in only]
        paths: list[ProxyPath | None] = [None, *available(chosen, scratch)]
        plain_port, sse_port = free_port(), free_port()
        env = environment(PATHS[0])
        with (
            running(
                [sys.executable, "-m", "bench.upstream_server", "plain", str(plain_port)],
                CLIENT_CPU,
                plain_port,
                env,
            ),
            running(
                [sys.executable, "-m", "bench.upstream_server", "sse", str(sse_port)],
                CLIENT_CPU,
                sse_port,
                env,
            ),
        ):
            for round_no in range(rounds):
                for path in paths:
                    name = path.name if path else "direct"
                    started = time.monotonic()
                    try:
                        row = measure_plain(path, plain_port, quick, scratch)
                        row.update(measure_streams(path, sse_port, quick, scratch))
                    except (RuntimeError, subprocess.SubprocessError, OSError, TimeoutError) as exc:
                        row = {"error": str(exc)[:300]}
                    row["round"] = round_no
                    results.setdefault(name, []).append(row)
                    print(
                        f"  round {round_no + 1} {name}: {time.monotonic() - started:.0f}s "
                        f"{ {k: round(v, 3) for k, v in row.items() if isinstance(v, float)} }",
                        flush=True,
                    )
    return results
