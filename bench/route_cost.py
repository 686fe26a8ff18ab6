"""What the routing decision adds per request: CPU µs of ``RouteStage.decide`` over a 20-route table whose
last three routes are the seed's small/medium/large token ranges, so every request runs the 17 other
routes' checks (paths, methods, headers, model globs, body fields) and is token-counted.

Measured in-process with ``time.process_time`` (all threads, so tokenizing on a worker thread counts) over
many decisions, on chat requests with 4 KB and 200 KB prompts; the request context is built outside the
timed loop (that is the edge's cost, the same with or without routes). Counters: the seed's chars/4
estimate and a real byte-level BPE tokenizer (trained here on Python's own sources: no downloads).
Targets: < 50 µs at 4 KB and < 2 ms at 200 KB.

    python -m bench.route_cost [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from inferlane.config.schema import ProxyConfig
from inferlane.model import ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.registry import BuildContext
from inferlane.stages.route.factory import RouteStageFactory
from inferlane.stages.split.weights import WeightOverrides

BACKENDS = ("qwen-7b", "qwen-32b", "qwen-72b", "embed")


def table(tokenizer: str | None) -> list[dict[str, Any]]:
    """17 routes the benchmark requests do not match (each fails late where it can), then the seed's 3."""
    misses: list[dict[str, Any]] = [
        {"name": "embeddings", "path": "/v1/embeddings", "backend": "embed"},
        {"name": "rerank", "pathPrefix": "/v1/rerank", "backend": "embed"},
        {"name": "kserve", "pathPrefix": "/v2/models/", "backend": "embed"},
        {"name": "legacy", "pathPrefix": "/legacy/", "rewrite": {"pathPrefix": "/v1/"}},
        {"name": "gets", "pathPrefix": "/v1/", "methods": ["GET"]},
        {
            "name": "completions-as-chat",
            "path": "/v1/completions",
            "headers": {"x-model-type": {"exact": "chat"}},
        },
    ]
    for i in range(4):
        misses.append({"name": f"team-{i}", "pathPrefix": "/v1/", "headers": {"x-team": {"exact": f"t{i}"}}})
    for i in range(3):
        misses.append(
            {"name": f"canary-{i}", "pathPrefix": "/v1/", "models": [f"*-canary-{i}", f"exp-{i}-*"]}
        )
    misses += [
        {"name": "debug", "pathPrefix": "/v1/", "headers": {"x-debug": {"regex": "on|yes|1"}}},
        {"name": "gold", "pathPrefix": "/v1/", "body": {"metadata.tier": {"equals": "gold"}}},
        {"name": "tools", "pathPrefix": "/v1/", "body": {"tools": {"present": True}}},
        {"name": "batch-api", "pathPrefix": "/v1/", "headers": {"x-batch": {"present": True}}},
    ]
    sizes = (("small", {"max": 1000}, "qwen-7b"), ("medium", {"min": 1000, "max": 8000}, "qwen-32b"))
    ranges = [*sizes, ("large", {"min": 8000}, "qwen-72b")]
    seed = [
        {
            "name": name,
            "pathPrefix": "/v1/",
            "promptTokens": {**bounds, "name": name, **({"tokenizer": "bpe"} if tokenizer else {})},
            "backend": backend,
            "rewrite": {"model": f"qwen2.5-{backend.split('-')[1]}-instruct"},
        }
        for name, bounds, backend in ranges
    ]
    routes = misses + seed
    assert len(routes) == 20
    return routes


def build(tokenizer: str | None):  # type: ignore[no-untyped-def]
    routing: dict[str, Any] = {"defaultBackend": "qwen-32b", "endpoints": table(tokenizer)}
    if tokenizer:
        routing["tokenizers"] = [{"name": "bpe", "path": tokenizer}]
    config = ProxyConfig.model_validate(
        {"backends": [{"name": b, "endpoints": ["http://127.0.0.1:9"]} for b in BACKENDS], "routing": routing}
    )
    return RouteStageFactory()(BuildContext(config, {}, ProxyMetrics(), random.Random(1), WeightOverrides()))


def prompt_text(size: int, rng: random.Random) -> str:
    words = ["the", "model", "routes", "tokens", "prompt", "latency", "inference", "gateway", "of", "a"]
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size]


def contexts(text: str, count: int) -> list[RequestContext]:
    body = {"model": "qwen", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    headers = CIMultiDictProxy(CIMultiDict({"content-type": "application/json", "x-team": "t9"}))
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", headers, b"{}", "", 0.0)
    return [RequestContext(request, "r", 0.0, 60.0, body) for _ in range(count)]


async def cost_us(stage: Any, text: str, decisions: int) -> tuple[float, str]:
    ctxs = contexts(text, decisions)
    await stage.decide(contexts(text, 1)[0])  # warm up (executor thread, caches)
    start = time.process_time()
    for ctx in ctxs:
        await stage.decide(ctx)
    spent = time.process_time() - start
    return spent / decisions * 1e6, f"{ctxs[-1].route} ({ctxs[-1].prompt_tokens} tokens)"


def train_tokenizer(directory: Path) -> str:
    """A byte-level BPE (16k vocab) trained on the standard library's sources, saved as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    sources = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:120]
    trainer = trainers.BpeTrainer(vocab_size=16_000, show_progress=False)
    tokenizer.train([str(p) for p in sources], trainer)
    path = directory / "tokenizer.json"
    tokenizer.save(str(path))
    return str(path)


async def run(scale: float) -> None:
    rng = random.Random(7)
    prompts = {"4 KB": prompt_text(4 * 1024, rng), "200 KB": prompt_text(200 * 1024, rng)}
    #: decisions per (counter, prompt): bounded so the whole run takes well under a minute
    rounds = {(False, "4 KB"): 20_000, (False, "200 KB"): 5_000, (True, "4 KB"): 1_000, (True, "200 KB"): 40}
    with tempfile.TemporaryDirectory() as tmp:
        counters = {"chars/4": None, "BPE tokenizer.json": train_tokenizer(Path(tmp))}
        print(f"{'counter':<20}{'prompt':>8}{'decisions':>11}{'µs/decision':>13}  route")
        for counter, path in counters.items():
            stage = build(path)
            for label, text in prompts.items():
                n = max(10, int(rounds[path is not None, label] * scale))
                us, route = await cost_us(stage, text, n)
                print(f"{counter:<20}{label:>8}{n:>11}{us:>13.1f}  {route}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of decisions")
    args = parser.parse_args()
    asyncio.run(run(args.scale))


if __name__ == "__main__":
    main()
