"""Known traffic through the proxy to the simulator; /metrics counts it exactly and times it plausibly."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from integration.sim.sim_probe import scrape, value
from support.proxy import proxy_config

MESSAGES = [{"role": "user", "content": "Count the tokens of this prompt, please."}]


def chat(max_tokens: int, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": MESSAGES, "max_tokens": max_tokens, "ignore_eos": True, **extra}


async def test_seed_and_genai_metrics_count_known_traffic(sim, proxies, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}))
    url = proxy.url + "/v1/chat/completions"
    prompt_tokens = 0
    for _ in range(3):
        async with http.post(url, json=chat(5)) as resp:
            assert resp.status == 200
            prompt_tokens = (await resp.json())["usage"]["prompt_tokens"]
    for _ in range(2):
        async with http.post(url, json=chat(4, stream=True)) as resp:
            body = await resp.read()
            assert resp.status == 200
            assert b'"usage"' not in body  # the client did not ask for usage: the extra event is stripped
    async with http.post(url, json={"model": "nope", "messages": MESSAGES}) as resp:
        assert resp.status == 404

    m = await scrape(http, proxy.admin_url)
    assert value(m, "http_requests_total", service="m", model="m", code="2xx", status="200") == 5
    assert value(m, "http_requests_total", service="m", code="4xx", status="404") == 1
    assert value(m, "http_request_duration_seconds_count", service="m", route="default") == 6
    assert value(m, "inference_latency_ms_count", model="m", version="-") == 5
    assert value(m, "ai_inference_tokens_total", model="m", type="output") == 3 * 5 + 2 * 4
    assert value(m, "ai_inference_tokens_total", model="m", type="input") == 5 * prompt_tokens
    assert value(m, "inferlane_tokens_total", model="m", type="output", estimated="false") == 23
    assert value(m, "inferlane_tokens_total", estimated="true") == 0
    assert value(m, "model_tokens_per_second", model="m") > 0
    assert value(m, "inferlane_time_to_first_token_seconds_count", model="m") == 2
    assert value(m, "inferlane_time_per_output_token_seconds_count", model="m") == 2
    assert value(m, "inferlane_upstream_latency_seconds_count", backend="m") == 6
    assert value(m, "inferlane_proxy_overhead_seconds_count", route="default") == 6
    # plausible: parts never exceed the whole
    total = value(m, "http_request_duration_seconds_sum")
    assert 0 < value(m, "inferlane_time_to_first_token_seconds_sum") < total
    assert 0 < value(m, "inferlane_proxy_overhead_seconds_sum") < total
    assert value(m, "inference_latency_ms_sum") <= total * 1000
    load = [v for (name, _), v in m.items() if name == "model_load_time_seconds"]
    assert len(load) == 1 and 0 <= load[0] < 60


async def test_streams_without_usage_are_estimated_and_marked(sim, proxies, http):
    fleet = await sim()
    config = proxy_config({"m": [fleet.replicas[0].url]}, metrics={"streamUsage": False})
    proxy = await proxies(config)
    async with http.post(proxy.url + "/v1/chat/completions", json=chat(6, stream=True)) as resp:
        assert resp.status == 200
        await resp.read()
    m = await scrape(http, proxy.admin_url)
    assert value(m, "inferlane_tokens_total", type="output", estimated="true") == 6
    # prompt estimate: the seed router's chars / 4
    assert (
        value(m, "inferlane_tokens_total", type="input", estimated="true")
        == (len(MESSAGES[0]["content"]) + 3) // 4
    )


async def test_a_cut_stream_counts_the_tokens_relayed_before_the_cut(sim, proxies, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}, retry={"attempts": 0}))
    headers = {"x-sim-fault": "reset-mid-stream,after=3"}
    async with http.post(
        proxy.url + "/v1/chat/completions", json=chat(20, stream=True), headers=headers
    ) as r:
        body = await r.read()
    assert b'"error"' in body  # the client saw the SSE error event
    m = await scrape(http, proxy.admin_url)
    assert value(m, "inferlane_tokens_total", type="output", estimated="true") == 3


async def test_access_log_line_has_tokens_and_timings_but_no_body(sim, proxies, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}))
    async with http.post(proxy.url + "/v1/chat/completions", json=chat(3, stream=True)) as resp:
        await resp.read()
    (line,) = [orjson.loads(x) for x in proxy.access_lines()]
    assert (line["input_tokens"], line["output_tokens"]) == (line["input_tokens"], 3)
    assert line["ttft_ms"] > 0 and line["upstream_ms"] > 0 and line["duration_ms"] >= line["ttft_ms"]
    assert line["model"] == "m" and line["endpoint"] == fleet.replicas[0].url.split("//")[1]
    assert "request_body" not in line and "Count the tokens" not in str(line)


async def test_debug_bodies_logs_truncated_bodies(sim, proxies, http):
    fleet = await sim()
    config = proxy_config({"m": [fleet.replicas[0].url]}, logging={"debugBodies": True})
    proxy = await proxies(config)
    async with http.post(proxy.url + "/v1/chat/completions", json=chat(2)) as resp:
        await resp.read()
    (line,) = [orjson.loads(x) for x in proxy.access_lines()]
    assert "Count the tokens" in line["request_body"]
    assert '"usage"' in line["response_body"]


async def test_tenant_label_is_opt_in_and_capped(sim, proxies, http):
    fleet = await sim()
    tenants = {"enabled": True, "maxValues": 2}
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}, metrics={"tenantLabel": tenants}))
    for tenant in ["acme", "globex", "initech", "acme"]:
        headers = {"x-tenant-id": tenant}
        async with http.post(proxy.url + "/v1/chat/completions", json=chat(2), headers=headers) as resp:
            assert resp.status == 200
    m = await scrape(http, proxy.admin_url)
    assert value(m, "inferlane_tenant_requests_total", tenant="acme", code="2xx") == 2
    assert value(m, "inferlane_tenant_requests_total", tenant="globex") == 1
    assert value(m, "inferlane_tenant_requests_total", tenant="other") == 1
    assert value(m, "inferlane_tenant_tokens_total", tenant="acme", type="output") == 4
    assert not [name for (name, labels) in m if ("tenant", "initech") in labels]


async def test_model_names_chosen_by_clients_cannot_grow_the_series_without_bound(sim, proxies, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}, metrics={"maxModels": 1}))
    for model in ["m", "random-1", "random-2"]:
        body = {"model": model, "messages": MESSAGES}
        async with http.post(proxy.url + "/v1/chat/completions", json=body) as resp:
            await resp.read()
    m = await scrape(http, proxy.admin_url)
    assert value(m, "http_requests_total", model="m", status="200") == 1
    assert value(m, "http_requests_total", model="other", status="404") == 2
    assert not [labels for (_, labels) in m if ("model", "random-1") in labels]


async def test_model_load_time_comes_from_the_first_passing_health_probe(sim, proxies, http):
    fleet = await sim()
    health = {"enabled": True, "interval": "50ms", "timeout": "1s"}
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}, healthCheck=health))
    endpoint = fleet.replicas[0].url.split("//")[1]
    sample = ("model_load_time_seconds", (("backend", "m"), ("endpoint", endpoint)))
    for _ in range(100):  # no request is sent: only the health checker can set it
        m = await scrape(http, proxy.admin_url)
        if sample in m:
            break
        await asyncio.sleep(0.05)
    assert sample in m and 0 <= m[sample] < 30
    assert value(m, "http_requests_total") == 0
