"""What the status page costs: µs per finished-request hook call (on every request) and per
``/admin/status`` document (once per poll per open page), with 64 endpoints and a full error ring.

    python -m bench.status_cost [--calls 200000]

The hook is the only part on the request path; the target is a few µs, well under 1% of a proxied request.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson

from inferlane.config.load import parse_config
from inferlane.model import Endpoint, ProxyRequest
from inferlane.pipeline.context import RequestContext
from inferlane.server.status import StatusFeed
from inferlane.stages.split.weights import WeightOverrides

ENDPOINTS = 64


def state() -> dict[str, Any]:
    endpoints = [
        {"endpoint": f"10.0.0.{i}:8000", "healthy": True, "in_flight": i % 7, "requests": 1000 + i,
         "ejected": False, "breaker": "closed", "kv_usage": 0.5, "queue": 2, "signal_age_s": 0.3}
        for i in range(ENDPOINTS)
    ]  # fmt: skip
    return {"generation": 1, "ready": True, "draining": False, "backends": {"pool": endpoints}}


def per_call_us(fn: Any, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args(argv)
    config = parse_config("backends: [{name: pool, endpoints: ['http://10.0.0.1:8000']}]")
    feed = StatusFeed(state, lambda: config, WeightOverrides(), time.time)
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, b"{}", "", 0.0)
    ctx = RequestContext(request, "0" * 32, 0.0, 60.0, {"model": "llama"})
    ctx.route, ctx.backend, ctx.endpoint = "chat", "pool", Endpoint("pool", "http://10.0.0.1:8000")
    ok = per_call_us(lambda: feed.record(ctx, 200, "", 0.042), args.calls)
    failed = per_call_us(lambda: feed.record(ctx, 503, "circuit_open", 0.001), args.calls)
    document = per_call_us(lambda: orjson.dumps(feed.snapshot(), option=orjson.OPT_NON_STR_KEYS), 2_000)
    print("| operation | µs per call |")
    print("|---|---|")
    print(f"| finished-request hook, success | {ok:.2f} |")
    print(f"| finished-request hook, error (also kept in the ring) | {failed:.2f} |")
    print(f"| `/admin/status` document, {ENDPOINTS} endpoints, built and encoded | {document:.1f} |")


if __name__ == "__main__":
    main()
