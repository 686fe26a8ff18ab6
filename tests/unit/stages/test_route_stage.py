"""The route stage on a request context: counts only when needed, with the configured tokenizer (big
prompts on a worker thread), and leaves its decision on the context and in response headers."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from tokenizers import Tokenizer, models, pre_tokenizers

from inferlane.config.schema import ProxyConfig
from inferlane.model import ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.registry import BuildContext
from inferlane.stages.route.factory import RouteStageFactory
from inferlane.stages.route.stage import RouteStage
from inferlane.stages.split.weights import WeightOverrides
from inferlane.tokens.counter import LocalTokenizer


@pytest.fixture
def tokenizer_json(tmp_path: Path) -> str:
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "hi": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return str(path)


def build(routing: dict[str, Any], factory: RouteStageFactory | None = None) -> RouteStage:
    backends = [{"name": n, "endpoints": ["http://127.0.0.1:9"]} for n in ("small", "large")]
    config = ProxyConfig.model_validate(
        {"backends": backends, "routing": {"defaultBackend": "small", **routing}}
    )
    context = BuildContext(config, {}, ProxyMetrics(), random.Random(1), WeightOverrides())
    stage = (factory or RouteStageFactory())(context)
    assert isinstance(stage, RouteStage)
    return stage


def context(
    body: dict[str, Any] | None, path: str = "/v1/chat/completions", **headers: str
) -> RequestContext:
    raw = orjson.dumps(body)
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    request_headers = CIMultiDictProxy(CIMultiDict({"content-type": "application/json", **extra}))
    request = ProxyRequest("POST", path, path, request_headers, raw, "127.0.0.1", 0.0)
    return RequestContext(request, "rid", 0.0, 100.0, body)


def chat(text: str, model: str = "qwen2.5-7b") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


RANGES = [
    {"name": "short", "promptTokens": {"max": 500, "name": "small"}, "backend": "small"},
    {"name": "long", "promptTokens": {"min": 500, "name": "large"}, "backend": "large"},
]


async def test_model_tokenizer_counts_big_prompts_on_a_worker_thread(tokenizer_json, monkeypatch):
    stage = build(
        {"endpoints": RANGES, "tokenizers": [{"name": "w", "path": tokenizer_json, "models": ["qwen*"]}]}
    )
    threads = []
    counter = stage.counters.named["w"]
    assert isinstance(counter, LocalTokenizer)
    original = counter.count
    monkeypatch.setattr(counter, "count", lambda p: threads.append(threading.current_thread()) or original(p))

    # 600 words "hi" = 600 real tokens, but only 1,800 characters (chars/4 would say 450)
    ctx = context(chat("hi " * 600))
    await stage.decide(ctx)
    assert (ctx.route, ctx.backend, ctx.prompt_tokens) == ("long", "large", 600)
    assert ctx.response_headers == {"x-inferlane-route": "long", "x-token-range": "large"}
    assert ctx.upstream_headers == {"x-token-range": "large"}  # for gateways routing on it, as in the seed
    assert threads == [threading.main_thread()]  # small prompt: counted inline

    big = context(chat("hi " * 10_000))
    await stage.decide(big)
    assert big.prompt_tokens == 10_000 and threads[-1] is not threading.main_thread()

    other = context(chat("hi " * 600, model="llama"))  # no tokenizer for this model: chars/4
    await stage.decide(other)
    assert (other.route, other.prompt_tokens) == ("short", 450)
    assert len(threads) == 2


async def test_no_counting_without_a_token_route_and_model_rewrite_reencodes():
    stage = build({"endpoints": [{"path": "/v1/chat/completions", "rewrite": {"model": "qwen2.5-72b"}}]})
    ctx = context(chat("hello"))
    await stage.decide(ctx)
    assert ctx.prompt_tokens is None and "x-token-range" not in ctx.response_headers
    assert (ctx.model, ctx.requested_model) == ("qwen2.5-72b", "qwen2.5-7b")
    assert orjson.loads(ctx.body) == {**chat("hello"), "model": "qwen2.5-72b"}


async def test_decisions_are_counted_with_the_seed_labels():
    metrics = ProxyMetrics()
    stage = build({"endpoints": RANGES})
    stage.on_decision = metrics.route_decision
    for text in ("a" * 100, "a" * 4000, "a" * 4000):
        await stage.decide(context(chat(text)))
    value = metrics.registry.get_sample_value
    assert value("ai_router_route_decision_total", {"model_size": "large", "model_name": "qwen2.5-7b"}) == 2
    assert value("ai_router_route_decision_total", {"model_size": "small", "model_name": "qwen2.5-7b"}) == 1


def test_model_name_label_is_bounded():
    metrics = ProxyMetrics()
    for i in range(metrics.MAX_ROUTED_MODEL_NAMES + 50):
        metrics.route_decision("-", f"model-{i}")
    value = metrics.registry.get_sample_value
    assert value("ai_router_route_decision_total", {"model_size": "-", "model_name": "other"}) == 50


async def test_a_reload_reuses_the_loaded_tokenizer_until_its_file_changes(tokenizer_json):
    factory = RouteStageFactory()
    routing = {"endpoints": RANGES, "tokenizers": [{"name": "w", "path": tokenizer_json, "models": ["*"]}]}
    first = build(routing, factory).counters.named["w"]
    again = build(routing, factory).counters.named["w"]
    assert isinstance(first, LocalTokenizer) and isinstance(again, LocalTokenizer)
    assert again.raw is first.raw
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "hi": 1, "there": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(tokenizer_json)
    changed = build(routing, factory).counters.named["w"]
    assert isinstance(changed, LocalTokenizer) and changed.raw is not first.raw
    ctx = context(chat("hi there " * 300))
    await build(routing, factory).decide(ctx)
    assert ctx.prompt_tokens == 600


async def test_a_client_cannot_choose_the_token_range_sent_upstream():
    stage = build({"endpoints": RANGES})
    spoofed = context(None, "/v1/models", x_token_range="large")
    assert "x-token-range" in spoofed.request.headers
    await stage.decide(spoofed)
    assert spoofed.route == "default" and "x-token-range" not in spoofed.request.headers
    overridden = context(chat("short"), x_token_range="large")
    await stage.decide(overridden)
    assert overridden.upstream_headers == {"x-token-range": "small"}
