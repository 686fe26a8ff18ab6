"""How the proxy's CPU splits between user space and the kernel, per non-streaming request and per stream.

``bench.observability_cost --callgrind`` counts user-space instructions only, and observability adds no
system call per request (spans leave in batched POSTs), so its share of the proxy's whole CPU is its share
of user-space instructions times the user-space share measured here. Each kind runs the ``off`` proxy
(pinned to CPU 1; load and upstream on CPU 0) under closed-loop load and reads the process's ``utime`` and
``stime`` from ``/proc/PID/stat`` around a long burst; the median over rounds is reported.

python -m bench.kernel_share [--rounds 3] [--requests 20000] [--streams 600]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

import uvloop

from bench.observability_cost import load
from bench.procs import free_port, running

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) * TICK_S, int(fields[12]) * TICK_S


def split(kind: str, count: int) -> tuple[float, float]:
    """User and system CPU µs per request (or per stream) of the ``off`` proxy."""
    here = [sys.executable, "-m"]
    upstream, sink, port = free_port(), free_port(), free_port()
    stream = kind == "stream"
    with contextlib.ExitStack() as stack:
        upstream_kind = "sse" if stream else "plain"
        stack.enter_context(
            running([*here, "bench.upstream_server", upstream_kind, str(upstream)], 0, upstream)
        )
        serve = [*here, "bench.observability_cost", "serve", "off", str(port), str(upstream), str(sink)]
        pid = stack.enter_context(running(serve, 1, port))
        uvloop.run(load(port, count // 10, stream))  # warm-up
        user0, system0 = cpu_times(pid)
        errors = uvloop.run(load(port, count, stream))
        user1, system1 = cpu_times(pid)
    if errors:
        raise RuntimeError(f"{errors} failed {kind} requests")
    return (user1 - user0) / count * 1e6, (system1 - system0) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--streams", type=int, default=600)
    args = parser.parse_args()
    print("| kind | user µs | system µs | user-space share of CPU, median (min–max) |\n|---|---|---|---|")
    for kind, count in (("plain", args.requests), ("stream", args.streams)):
        rounds = [split(kind, count) for _ in range(args.rounds)]
        shares = [user / (user + system) for user, system in rounds]
        user = statistics.median(u for u, _ in rounds)
        system = statistics.median(s for _, s in rounds)
        share = statistics.median(shares)
        print(
            f"| {kind} | {user:.0f} | {system:.0f} | {share:.1%} ({min(shares):.1%}–{max(shares):.1%}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
