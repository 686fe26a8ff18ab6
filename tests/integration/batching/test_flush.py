"""When batches leave: an idle batcher sends at once, several batches may be in flight, the window changes
live on reload, and what must never be merged passes through alone."""

from __future__ import annotations

import asyncio
from typing import Any

from batch_probe import batching_config, metric, vector

from inferlane.config.load import parse_config


async def _embed(http: Any, url: str, text: str, **extra: Any) -> tuple[int, Any]:
    body = {"model": "e", "input": text, **extra}
    async with http.post(url + "/v1/embeddings", json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def _wait_for(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_an_idle_batcher_sends_at_once_even_with_a_long_window(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    # a one-minute window: a request that waited for it would time out the test client instead
    config = batching_config(upstream.url, "/v1/embeddings", strategy="dynamic", maxWaitTimeMs=60000)
    proxy = await proxies(config)
    for text in ("one", "two", "three"):
        assert await asyncio.wait_for(_embed(http, proxy.url, text), 5) == (200, await _expected(text))
    assert upstream.calls == [["one"], ["two"], ["three"]]


async def _expected(text: str) -> dict[str, Any]:
    return {
        "object": "list",
        "model": "e",
        "data": [{"object": "embedding", "index": 0, "embedding": vector(text)}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }


async def test_more_than_one_batch_is_in_flight_when_allowed(embed_upstream, proxies, http):
    upstream = await embed_upstream(gate=asyncio.Event())
    config = batching_config(
        upstream.url,
        "/v1/embeddings",
        strategy="dynamic",
        maxBatchSize=4,
        maxConcurrentBatches=3,
        maxWaitTimeMs=0,
    )
    proxy = await proxies(config)
    first = [asyncio.ensure_future(_embed(http, proxy.url, f"a{i}")) for i in range(3)]
    await _wait_for(lambda: upstream.in_flight == 3)  # three batches out at once (a zero window)
    rest = [asyncio.ensure_future(_embed(http, proxy.url, f"b{i}")) for i in range(6)]
    for _ in range(500):  # the six queue up behind the busy slots
        async with http.get(proxy.admin_url + "/metrics") as resp:
            if metric(await resp.text(), 'request_queue_depth{model="e"}') == 6:
                break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the six never queued")
    assert upstream.in_flight == 3
    assert upstream.gate is not None
    upstream.gate.set()
    results = await asyncio.gather(*first, *rest)
    assert all(status == 200 for status, _ in results)
    assert upstream.max_in_flight == 3
    sizes = sorted(len(call) for call in upstream.calls[3:])
    assert sum(sizes) == 6 and max(sizes) > 1  # the waiting six went merged


async def test_the_window_changes_live_on_reload(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    config = batching_config(upstream.url, "/v1/embeddings", maxBatchSize=3, maxWaitTimeMs=60000)
    proxy = await proxies(config)
    pending = [asyncio.ensure_future(_embed(http, proxy.url, f"x{i}")) for i in range(3)]
    results = await asyncio.gather(*pending)
    assert [status for status, _ in results] == [200, 200, 200]
    assert [sorted(call) for call in upstream.calls] == [["x0", "x1", "x2"]]

    config["batching"].update(maxWaitTimeMs=0)
    assert await proxy.app.reload(parse_config(_yaml(config)))
    assert await asyncio.wait_for(_embed(http, proxy.url, "y"), 5) == (200, await _expected("y"))
    assert upstream.calls[-1] == ["y"]


def _yaml(config: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(config)


async def test_streaming_and_chat_are_never_merged(sim, proxies, http):
    fleet = await sim("vllm", model="chat")
    url = fleet.replicas[0].url
    config = batching_config(url, "/v1/chat/completions", engine="vllm", maxBatchSize=2)
    config["routing"]["endpoints"].append(
        {"path": "/v1/completions", "backend": "model", "batchEnabled": True}
    )
    proxy = await proxies(config)
    chat = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    completion = {"model": "chat", "prompt": "hi", "max_tokens": 3}

    async def post(path: str, body: dict[str, Any]) -> int:
        async with http.post(proxy.url + path, json=body) as resp:
            await resp.read()
            return resp.status

    statuses = await asyncio.wait_for(
        asyncio.gather(
            post("/v1/chat/completions", chat),
            post("/v1/chat/completions", chat),
            post("/v1/completions", completion),
            post("/v1/completions", {**completion, "stream": True}),
        ),
        10,
    )
    assert statuses == [200, 200, 200, 200]
    async with http.get(proxy.admin_url + "/metrics") as resp:
        assert "inferlane_batch_batches_total{" not in await resp.text()


async def test_the_token_budget_cuts_batches_and_the_rest_go_at_once(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    # each request body is 29 bytes, 8 tokens by the estimate: a budget of 16 holds two requests, and a
    # queue holding a whole budget goes like a full batch (the fixed 5 s window is never waited out)
    config = batching_config(
        upstream.url, "/v1/embeddings", maxBatchSize=6, maxRequestTokens=16, maxConcurrentBatches=3
    )
    proxy = await proxies(config)
    texts = [f"t{i}" for i in range(6)]
    results = await asyncio.wait_for(asyncio.gather(*(_embed(http, proxy.url, t) for t in texts)), 4)
    assert [body["data"][0]["embedding"] for _, body in results] == [vector(t) for t in texts]
    assert sorted(len(call) for call in upstream.calls) == [2, 2, 2]
