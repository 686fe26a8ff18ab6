"""Engine behaviour seen from outside: prefix caching, queueing on a full KV cache, LoRA, sleep mode."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from sim_probe import FleetFactory, chat_body, scrape, value

from inferlane.sim import FleetSpec

SYSTEM = "You are a careful assistant for the Inferlane test suite. " * 40  # ~600 tokens


def spec(**model: Any) -> FleetSpec:
    return FleetSpec.from_dict({"timeScale": 0.01, "models": [{"name": "m", **model}]})


async def chat(client: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with client.post(url + "/v1/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def ttft_sum(client: aiohttp.ClientSession, url: str) -> float:
    return value(await scrape(client, url), "vllm:time_to_first_token_seconds_sum")


def with_system(question: str) -> dict[str, Any]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    return {"model": "m", "messages": messages, "max_tokens": 2}


async def test_prefix_hit_lowers_ttft_on_the_same_replica_only(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    warm, cold = (await fleet_factory(spec(replicas=2))).replicas
    first = await chat(client, warm.url, with_system("first question?"))
    cold_ttft = await ttft_sum(client, warm.url)
    second = await chat(client, warm.url, with_system("second question?"))
    warm_ttft = await ttft_sum(client, warm.url) - cold_ttft
    other = await chat(client, cold.url, with_system("second question?"))
    other_ttft = await ttft_sum(client, cold.url)
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] > 500
    assert other["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert warm_ttft < 0.5 * cold_ttft and other_ttft > 2 * warm_ttft
    metrics = await scrape(client, warm.url)
    assert (
        value(metrics, "vllm:prefix_cache_hits_total")
        == second["usage"]["prompt_tokens_details"]["cached_tokens"]
    )


async def test_full_kv_cache_queues_requests_and_metrics_show_it(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    # 40 blocks × 16 = 640 tokens of KV; each request needs ~100 prompt + 200 output tokens.
    fleet = await fleet_factory(spec(engine={"numGpuBlocks": 40, "maxModelLen": 512}, timeScale=0.05))
    url = fleet.replicas[0].url
    bodies = [
        chat_body(f"{i}" + "z" * 400, max_tokens=200, ignore_eos=True) for i in range(6)
    ]  # no shared prefix
    tasks = [asyncio.create_task(chat(client, url, body)) for body in bodies]
    seen_waiting = seen_running = 0.0
    kv = 0.0
    for _ in range(200):  # bounded poll: the queue is read while the requests are in flight
        metrics = await scrape(client, url)
        seen_waiting = max(seen_waiting, value(metrics, "vllm:num_requests_waiting"))
        seen_running = max(seen_running, value(metrics, "vllm:num_requests_running"))
        kv = max(kv, value(metrics, "vllm:kv_cache_usage_perc"))
        if seen_waiting >= 2 and kv > 0.8:
            break
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*tasks)
    # 6 requests, maxNumSeqs 256: only the KV cache can have held some back.
    assert seen_waiting >= 2 and 1 <= seen_running < 6 and kv > 0.8
    assert all(r["usage"]["completion_tokens"] == 200 for r in results)
    assert value(await scrape(client, url), "vllm:num_requests_waiting") == 0


async def test_max_num_seqs_queue_is_readable(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    fleet = await fleet_factory(spec(engine={"maxNumSeqs": 2}, timeScale=0.05))
    url = fleet.replicas[0].url
    tasks = [
        asyncio.create_task(chat(client, url, chat_body(max_tokens=100, ignore_eos=True))) for _ in range(6)
    ]
    metrics = {}
    for _ in range(200):
        metrics = await scrape(client, url)
        if value(metrics, "vllm:num_requests_waiting") == 4:
            break
        await asyncio.sleep(0.01)
    assert (
        value(metrics, "vllm:num_requests_running") == 2 and value(metrics, "vllm:num_requests_waiting") == 4
    )
    await asyncio.gather(*tasks)


async def test_lora_load_unload(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    fleet = await fleet_factory(spec(timeScale=0.02, loraLoadLatency="10ms"))
    url = fleet.replicas[0].url
    load = {"lora_name": "sql", "lora_path": "/adapters/sql"}
    async with client.post(url + "/v1/load_lora_adapter", json=load) as r:
        assert r.status == 200 and "added successfully" in await r.text()
    async with client.post(url + "/v1/load_lora_adapter", json=load) as r:
        assert r.status == 400 and "already been loaded" in (await r.json())["error"]["message"]
    async with client.get(url + "/v1/models") as r:
        cards = {m["id"]: m for m in (await r.json())["data"]}
    assert cards["sql"]["parent"] == "m"
    task = asyncio.create_task(
        chat(client, url, {**chat_body(max_tokens=60, ignore_eos=True), "model": "sql"})
    )
    running = ""
    for _ in range(200):
        metrics = await scrape(client, url)
        info = [dict(lb) for n, lb in metrics if n == "vllm:lora_requests_info"]
        running = info[0]["running_lora_adapters"]
        if running:
            break
        await asyncio.sleep(0.01)
    assert running == "sql"
    assert (await task)["model"] == "sql"
    async with client.post(url + "/v1/unload_lora_adapter", json={"lora_name": "sql"}) as r:
        assert r.status == 200
    async with client.get(url + "/v1/models") as r:
        assert [m["id"] for m in (await r.json())["data"]] == ["m"]
    async with client.post(url + "/v1/chat/completions", json={**chat_body(), "model": "sql"}) as r:
        assert r.status == 404
    async with client.post(url + "/v1/unload_lora_adapter", json={"lora_name": "sql"}) as r:
        assert r.status == 404


async def test_sleep_mode_and_prefix_cache_reset(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = (await fleet_factory(model="m", time_scale=0.0)).replicas[0].url
    await chat(client, url, with_system("q1"))
    assert (await chat(client, url, with_system("q2")))["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    async with client.post(url + "/reset_prefix_cache") as r:
        assert r.status == 200
    assert (await chat(client, url, with_system("q3")))["usage"]["prompt_tokens_details"][
        "cached_tokens"
    ] == 0
    async with client.post(url + "/sleep?level=1") as r:
        assert r.status == 200
    async with client.get(url + "/is_sleeping") as r:
        assert await r.json() == {"is_sleeping": True}
    async with client.post(url + "/v1/chat/completions", json=chat_body()) as r:
        assert r.status == 503
    metrics = await scrape(client, url)
    assert value(metrics, "vllm:engine_sleep_state", sleep_state="weights_offloaded") == 1
    assert value(metrics, "vllm:engine_sleep_state", sleep_state="awake") == 0
    async with client.post(url + "/wake_up") as r:
        assert r.status == 200
    await chat(client, url, chat_body())
    async with client.get(url + "/is_sleeping") as r:
        assert await r.json() == {"is_sleeping": False}


async def test_inter_token_latency_grows_with_load(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = (await fleet_factory(spec(timeScale=0.01))).replicas[0].url
    await chat(client, url, chat_body(max_tokens=20, ignore_eos=True))
    alone = await scrape(client, url)
    itl_alone = value(alone, "vllm:inter_token_latency_seconds_sum") / value(
        alone, "vllm:inter_token_latency_seconds_count"
    )
    await asyncio.gather(
        *(chat(client, url, chat_body(f"q{i}", max_tokens=20, ignore_eos=True)) for i in range(40))
    )
    both = await scrape(client, url)
    itl_sum = value(both, "vllm:inter_token_latency_seconds_sum") - value(
        alone, "vllm:inter_token_latency_seconds_sum"
    )
    itl_n = value(both, "vllm:inter_token_latency_seconds_count") - value(
        alone, "vllm:inter_token_latency_seconds_count"
    )
    assert itl_sum / itl_n > 1.1 * itl_alone
