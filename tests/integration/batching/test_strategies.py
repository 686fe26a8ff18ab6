"""The other strategies and per-model settings through the proxy, and the remaining protocols."""

from __future__ import annotations

import asyncio
from typing import Any

from batch_probe import batching_config, device_batches, metric, vector


async def _post(http: Any, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_adaptive_strategy_answers_every_caller_exactly(embed_upstream, proxies, http):
    upstream = await embed_upstream(gate=asyncio.Event())
    config = batching_config(
        upstream.url,
        "/v1/embeddings",
        strategy="adaptive",
        maxBatchSize=16,
        maxWaitTimeMs=50,
        minWaitTimeMs=1,
        targetBatchSize=8,
        maxConcurrentBatches=1,
    )
    proxy = await proxies(config)
    texts = [f"adaptive {i}" for i in range(12)]
    pending = [
        asyncio.ensure_future(_post(http, proxy.url + "/v1/embeddings", {"model": "e", "input": t}))
        for t in texts
    ]
    for _ in range(500):  # the first goes at once (idle); the rest collect behind it
        if len(upstream.calls) == 1:
            break
        await asyncio.sleep(0.01)
    assert upstream.gate is not None
    upstream.gate.set()
    results = await asyncio.gather(*pending)
    assert [body["data"][0]["embedding"] for _, body in results] == [vector(t) for t in texts]
    assert sum(len(call) for call in upstream.calls) == 12
    assert len(upstream.calls) < 12


async def test_per_model_settings_override_the_route(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    config = batching_config(
        upstream.url,
        "/v1/embeddings",
        maxBatchSize=2,
        models=[{"name": "solo-*", "enabled": False}, {"name": "big", "maxBatchSize": 4}],
    )
    proxy = await proxies(config)
    url = proxy.url + "/v1/embeddings"
    # unbatched model: each request goes alone at once even with the fixed 5 s window
    solo = await asyncio.wait_for(
        asyncio.gather(*(_post(http, url, {"model": "solo-1", "input": f"s{i}"}) for i in range(2))), 4
    )
    assert [status for status, _ in solo] == [200, 200]
    # a model with a larger batch: 4 callers go as one batch of 4, not two of 2
    big = await asyncio.gather(*(_post(http, url, {"model": "big", "input": f"b{i}"}) for i in range(4)))
    assert [status for status, _ in big] == [200] * 4
    assert sorted(len(call) for call in upstream.calls) == [1, 1, 4]
    async with http.get(proxy.admin_url + "/metrics") as resp:
        assert metric(await resp.text(), 'ai_inference_batch_size_sum{model="big"}') == 4


async def test_tei_rerank_merges_only_the_same_query(sim, proxies, http):
    fleet = await sim("tei", model="rr")
    url = fleet.replicas[0].url
    bodies = [
        {"query": "what is batching", "texts": ["merging calls", "a kind of bread"], "return_text": True},
        {
            "query": "what is batching",
            "texts": ["one call for many", "no", "grouping requests"],
            "return_text": True,
        },
        {"query": "another question", "texts": ["x", "y"], "return_text": True},
        {"query": "what is batching", "texts": ["z"], "return_text": True},
    ]
    expected = [await _post(http, url + "/rerank", body) for body in bodies]
    before = device_batches(fleet)
    proxy = await proxies(batching_config(url, "/rerank", maxBatchSize=6, maxWaitTimeMs=300))
    got = await asyncio.gather(*(_post(http, proxy.url + "/rerank", body) for body in bodies))
    assert got == expected
    batches, items = (a - b for a, b in zip(device_batches(fleet), before, strict=True))
    assert items == 8
    assert batches == 2  # the three calls with one query as one batch of 6, the other query alone


async def test_openai_completions_merge_prompt_lists(sim, proxies, http):
    fleet = await sim("vllm", model="gen")
    url = fleet.replicas[0].url
    bodies = [{"model": "gen", "prompt": f"prompt {i}", "max_tokens": 4, "temperature": 0} for i in range(4)]
    proxy = await proxies(batching_config(url, "/v1/completions", maxBatchSize=4))
    results = await asyncio.gather(*(_post(http, proxy.url + "/v1/completions", body) for body in bodies))
    for status, body in results:
        assert status == 200
        assert [choice["index"] for choice in body["choices"]] == [0]
        assert body["usage"]["completion_tokens"] >= 1
    async with http.get(proxy.admin_url + "/metrics") as resp:
        assert metric(await resp.text(), 'ai_inference_batch_size_sum{model="gen"}') == 4
