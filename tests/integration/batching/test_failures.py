"""Correctness under failure: a poisoned item fails only its caller, a wrong number of results fails every
caller of that batch, 5xx follows the retry policy, and callers that leave or time out never reach the
model."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from batch_probe import batching_config, metric, vector


async def _embed(http: Any, url: str, text: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.post(url + "/v1/embeddings", json={"model": "e", "input": text}, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


async def _metrics(http: Any, proxy: Any) -> str:
    async with http.get(proxy.admin_url + "/metrics") as resp:
        return await resp.text()


async def test_a_poisoned_item_fails_only_its_caller(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    proxy = await proxies(batching_config(upstream.url, "/v1/embeddings", maxBatchSize=8))
    texts = [f"good {i}" for i in range(7)]
    texts.insert(5, "POISON pill")
    results = await asyncio.gather(*(_embed(http, proxy.url, t) for t in texts))

    for text, (status, body) in zip(texts, results, strict=True):
        if "POISON" in text:
            assert status == 400
            assert body["error"]["message"] == "input contains POISON"
        else:
            assert status == 200
            assert body["data"][0]["embedding"] == vector(text)
    assert sorted(upstream.calls[0]) == sorted(texts)  # one merged batch first, then the bisection:
    assert len(upstream.calls) == 1 + 2 * 3  # halves of 4, of 2, of 1 along the bad item's path
    assert upstream.calls[-2:].count(["POISON pill"]) == 1
    assert metric(await _metrics(http, proxy), 'inferlane_batch_bisections_total{model="e"}') >= 1


async def test_a_wrong_number_of_results_fails_every_caller_of_the_batch(embed_upstream, proxies, http):
    upstream = await embed_upstream(drop_one=True)
    proxy = await proxies(batching_config(upstream.url, "/v1/embeddings", maxBatchSize=3))
    results = await asyncio.gather(*(_embed(http, proxy.url, f"t{i}") for i in range(3)))
    for status, body in results:
        assert status == 502
        assert body["error"]["code"] == "batch_result_mismatch"
        assert "returned 2 embeddings results for a batch of 3" in body["error"]["message"]
    text = await _metrics(http, proxy)
    assert metric(text, 'inferlane_batch_failures_total{kind="mismatch",model="e"}') == 1


async def test_5xx_follows_the_retry_policy_of_the_route(embed_upstream, proxies, http):
    upstream = await embed_upstream(fail_first=1)
    config = batching_config(upstream.url, "/v1/embeddings", maxBatchSize=2, strategy="dynamic")
    config["retry"] = {"attempts": 2, "backoff": {"baseInterval": "1ms", "maxInterval": "2ms"}}
    proxy = await proxies(config)
    results = await asyncio.gather(*(_embed(http, proxy.url, f"t{i}") for i in range(2)))
    assert [status for status, _ in results] == [200, 200]
    assert [body["data"][0]["embedding"] for _, body in results] == [vector("t0"), vector("t1")]
    assert len(upstream.calls) >= 2  # the failed call, then the retries


async def test_callers_that_leave_or_time_out_are_dropped_before_dispatch(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    config = batching_config(upstream.url, "/v1/embeddings", maxBatchSize=2, maxWaitTimeMs=60000)
    config["routing"]["endpoints"][0]["timeout"] = "300ms"
    proxy = await proxies(config)

    # a client that hangs up while its request waits for a batch
    leaving = asyncio.ensure_future(_embed(http, proxy.url, "gone", timeout=aiohttp.ClientTimeout(total=0.2)))
    with contextlib.suppress(TimeoutError):
        await leaving
    # a request whose deadline (route timeout 300 ms) passes while it waits: 504, the seed's message
    status, body = await _embed(http, proxy.url, "late")
    assert status == 504
    assert body["error"]["message"].startswith("timeout waiting for batch completion")
    assert upstream.calls == []

    results = await asyncio.gather(*(_embed(http, proxy.url, t) for t in ("a", "b")))
    assert [status for status, _ in results] == [200, 200]
    assert upstream.calls == [["a", "b"]]
    text = await _metrics(http, proxy)
    assert metric(text, 'inferlane_batch_dropped_total{model="e",reason="disconnect"}') == 1
    assert metric(text, 'inferlane_batch_dropped_total{model="e",reason="deadline"}') == 1
    assert metric(text, 'request_queue_depth{model="e"}') == 0


async def test_a_full_queue_answers_429_with_retry_after(embed_upstream, proxies, http):
    upstream = await embed_upstream()
    config = batching_config(
        upstream.url, "/v1/embeddings", maxBatchSize=8, maxQueueSize=2, itemTimeout="500ms"
    )
    proxy = await proxies(config)
    waiting = [asyncio.ensure_future(_embed(http, proxy.url, f"w{i}")) for i in range(2)]
    for _ in range(200):
        if metric(await _metrics(http, proxy), 'request_queue_depth{model="e"}') == 2:
            break
        await asyncio.sleep(0.01)
    async with http.post(proxy.url + "/v1/embeddings", json={"model": "e", "input": "x"}) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
        assert "batch queue full" in (await resp.json())["error"]["message"]
    assert [status for status, _ in await asyncio.gather(*waiting)] == [504, 504]


async def test_when_every_caller_of_a_batch_leaves_its_upstream_call_is_cancelled(
    embed_upstream, proxies, http
):
    upstream = await embed_upstream(gate=asyncio.Event())
    proxy = await proxies(batching_config(upstream.url, "/v1/embeddings", maxBatchSize=2))
    short = aiohttp.ClientTimeout(total=0.5)
    leaving = [_embed(http, proxy.url, f"bye{i}", timeout=short) for i in range(2)]
    outcomes = await asyncio.gather(*leaving, return_exceptions=True)
    assert all(isinstance(outcome, TimeoutError) for outcome in outcomes)
    for _ in range(300):
        if upstream.cancelled:
            break
        await asyncio.sleep(0.01)
    assert [sorted(call) for call in upstream.calls] == [["bye0", "bye1"]]
    assert upstream.cancelled == 1  # the merged call was closed, freeing the model server
