"""What the registry and split decision costs per request: µs per ``SplitStage.decide``.

A registry of 20 models (aliases and wildcards, two versions each at 90/10). Each case runs the stage on
prepared request contexts (the parsed body is what the edge hands over), without an event loop, so the
number is the stage's own CPU: name resolution, version choice (sticky hash or random draw), decision
headers, and — only where the served name or a cap changes the body — one JSON re-encode.

    python -m bench.split_cost [--calls 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from inferlane.model import ProxyRequest
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model, Version
from inferlane.registry.registry import Registry
from inferlane.stages.split.chooser import VersionChooser
from inferlane.stages.split.stage import SplitStage
from inferlane.stages.split.weights import WeightOverrides


def registry() -> Registry:
    models = []
    for i in range(20):
        name = f"model-{i}"
        versions = (Version("stable", f"b{i}", 90), Version("canary", f"c{i}", 10, f"{name}-canary"))
        aliases = (f"alias-{i}", f"family-{i}-*")
        models.append(Model(name, aliases, versions, sticky_by=(("header", "x-user-id"), ("body", "user"))))
    return Registry(models)


def body_of(size: int, model: str) -> dict[str, Any]:
    return {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "x" * size}]}


def contexts(body: dict[str, Any], headers: dict[str, str], count: int) -> list[RequestContext]:
    raw = orjson.dumps(body)
    proxy_headers = CIMultiDictProxy(CIMultiDict(headers))
    request = ProxyRequest(
        "POST", "/v1/chat/completions", "/v1/chat/completions", proxy_headers, raw, "", 0.0
    )
    return [RequestContext(request, "id", 0.0, 60.0, body) for _ in range(count)]


def per_call_us(stage: SplitStage, prepared: list[RequestContext]) -> float:
    start = time.perf_counter()
    for ctx in prepared:
        coro = stage.decide(ctx)
        with contextlib.suppress(StopIteration):
            coro.send(None)
    return (time.perf_counter() - start) / len(prepared) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5, help="the best round is reported (noisy hosts)")
    args = parser.parse_args()
    stage = SplitStage(registry(), VersionChooser(WeightOverrides(), random.Random(7)))
    user = {"x-user-id": "user-42"}  # lands on stable: no rewrite unless the name changes
    cases = [
        ("canonical name, sticky, 4 KB (bytes untouched)", body_of(4096, "model-7"), user),
        ("canonical name, random draw, 4 KB (10% rewritten)", body_of(4096, "model-7"), {}),
        ("exact alias → rewrite, 4 KB", body_of(4096, "alias-7"), user),
        ("wildcard alias → rewrite, 4 KB", body_of(4096, "family-7-large"), user),
        ("canonical name, sticky, 200 KB (bytes untouched)", body_of(200 * 1024, "model-7"), user),
        ("exact alias → rewrite, 200 KB", body_of(200 * 1024, "alias-7"), user),
    ]
    print(f"{'case':<52}{'µs/call':>10}")
    for name, body, headers in cases:
        calls = args.calls if len(orjson.dumps(body)) < 10_000 else max(args.calls // 20, 200)
        per_call_us(stage, contexts(body, headers, 200))  # warm-up
        us = min(per_call_us(stage, contexts(body, headers, calls)) for _ in range(args.rounds))
        print(f"{name:<52}{us:>10.1f}")


if __name__ == "__main__":
    main()
