"""API, error and metric shapes pinned to vLLM's (fixtures written from vLLM's source and docs)."""

from __future__ import annotations

import base64
import math
import struct

import aiohttp
import orjson
from sim_probe import FleetFactory, chat_body, scrape, value

from inferlane.sim import FleetSpec, SimFleet

# vLLM >= 0.10 ErrorResponse: {"error": {"message", "type", "param", "code"}}
NOT_FOUND = {"error": {"message": "The model `nope` does not exist.", "type": "NotFoundError", "param": None,
                       "code": 404}}  # fmt: skip
# vLLM serving_engine._validate_input messages
TOO_LONG = (
    "This model's maximum context length is 64 tokens. However, your request has 100 input tokens. "
    "Please reduce the length of the input messages."
)
MAX_TOKENS_TOO_LARGE = (
    "'max_tokens' or 'max_completion_tokens' is too large: 60. This model's maximum context length is 64 "
    "tokens and your request has 10 input tokens (60 > 64 - 10)."
)
# vllm/v1/metrics/loggers.py (PrometheusStatLogger), labels model_name + engine
VLLM_METRICS = [
    "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
    "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:num_preemptions_total",
    "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total",
    "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
    "vllm:e2e_request_latency_seconds_bucket", "vllm:request_queue_time_seconds_bucket",
]  # fmt: skip


async def start(fleet_factory: FleetFactory, **model: object) -> SimFleet:
    entry = {"name": "m", "preset": "zero", "engine": {"numGpuBlocks": 64, "maxModelLen": 64},
             "loras": [{"name": "m-lora", "path": "/adapters/a"}], **model}  # fmt: skip
    return await fleet_factory(FleetSpec.from_dict({"timeScale": 0, "models": [entry]}))


async def test_chat_completion_shape(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    async with client.post(url + "/v1/chat/completions", json=chat_body(max_tokens=5, n=2)) as r:
        assert r.status == 200 and r.content_type == "application/json"
        body = await r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-") and body["model"] == "m"
    assert [c["index"] for c in body["choices"]] == [0, 1]
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] in ("stop", "length") and "stop_reason" in choice
    usage = body["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"}
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}


async def test_completions_prompt_list_and_token_ids(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    async with client.post(url + "/tokenize", json={"model": "m", "prompt": "count these tokens"}) as r:
        tok = await r.json()
    assert tok["count"] == len(tok["tokens"]) == 5 and tok["max_model_len"] == 64
    body = {"model": "m", "prompt": ["count these tokens", "more"], "max_tokens": 3, "ignore_eos": True}
    async with client.post(url + "/v1/completions", json=body) as r:
        out = await r.json()
    assert out["object"] == "text_completion" and len(out["choices"]) == 2
    assert all(c["finish_reason"] == "length" and len(c["text"]) == 12 for c in out["choices"])
    assert out["usage"]["prompt_tokens"] == 6 and out["usage"]["completion_tokens"] == 6
    async with client.post(url + "/v1/completions", json={**body, "prompt": tok["tokens"]}) as r:
        out = await r.json()
    assert out["usage"]["prompt_tokens"] == 5 and len(out["choices"]) == 1
    async with client.post(url + "/detokenize", json={"model": "m", "tokens": tok["tokens"]}) as r:
        assert (await r.json()) == {"prompt": "count these tokens"}


async def test_error_shapes(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    async with client.post(url + "/v1/chat/completions", json={**chat_body(), "model": "nope"}) as r:
        assert r.status == 404 and await r.json() == NOT_FOUND
    async with client.post(url + "/v1/completions", json={"model": "m", "prompt": "x" * 400}) as r:
        assert r.status == 400
        assert await r.json() == {"error": {"message": TOO_LONG, "type": "BadRequestError", "param": None,
                                            "code": 400}}  # fmt: skip
    async with client.post(
        url + "/v1/completions", json={"model": "m", "prompt": "y" * 40, "max_tokens": 60}
    ) as r:
        assert r.status == 400 and (await r.json())["error"]["message"] == MAX_TOKENS_TOO_LARGE
    async with client.post(url + "/v1/chat/completions", data=b"{not json") as r:
        error = (await r.json())["error"]
        assert r.status == 400 and error["type"] == "BadRequestError" and error["code"] == 400
    async with client.post(url + "/v1/chat/completions", json={"model": "m", "messages": []}) as r:
        assert r.status == 400 and "messages" in (await r.json())["error"]["message"]


async def test_models_health_version(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    async with client.get(url + "/v1/models") as r:
        models = await r.json()
    assert models["object"] == "list"
    cards = {m["id"]: m for m in models["data"]}
    assert cards["m"]["parent"] is None and cards["m"]["root"] == "m" and cards["m"]["max_model_len"] == 64
    assert cards["m-lora"]["parent"] == "m" and cards["m-lora"]["root"] == "/adapters/a"
    assert all(m["object"] == "model" and m["owned_by"] == "vllm" for m in models["data"])
    async with client.get(url + "/health") as r:
        assert r.status == 200 and await r.read() == b""
    async with client.get(url + "/version") as r:
        assert set(await r.json()) == {"version"}


async def test_embeddings(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory, embeddingDimensions=8)).replicas[0].url
    inputs = {"model": "m", "input": ["same text", "same text", "other"]}
    async with client.post(url + "/v1/embeddings", json=inputs) as r:
        body = await r.json()
    assert body["object"] == "list" and [d["index"] for d in body["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in body["data"]]
    assert all(d["object"] == "embedding" for d in body["data"]) and len(vectors[0]) == 8
    assert vectors[0] == vectors[1] != vectors[2]
    assert math.isclose(sum(v * v for v in vectors[0]), 1.0, rel_tol=1e-9)
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] == 3 + 3 + 2
    async with client.post(url + "/v1/embeddings", json={**inputs, "encoding_format": "base64"}) as r:
        raw = base64.b64decode((await r.json())["data"][0]["embedding"])
    assert list(struct.unpack("<8f", raw)) == [
        float(struct.unpack("<f", struct.pack("<f", v))[0]) for v in vectors[0]
    ]
    async with client.post(url + "/v1/embeddings", json={**inputs, "dimensions": 4}) as r:
        assert len((await r.json())["data"][0]["embedding"]) == 4
    async with client.post(url + "/v1/embeddings", json={"model": "m", "input": [[1, 2, 3]]}) as r:
        assert r.status == 200 and (await r.json())["usage"]["prompt_tokens"] == 3


async def test_rerank_and_score(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    docs = ["the cat sat", "a dog ran", "cat and dog"]
    for path in ("/rerank", "/v1/rerank"):
        async with client.post(
            url + path, json={"model": "m", "query": "cat", "documents": docs, "top_n": 2}
        ) as r:
            body = await r.json()
        assert body["results"][0]["index"] in (0, 2) and len(body["results"]) == 2
        assert set(body["results"][0]) == {"index", "document", "relevance_score"}
        assert body["results"][0]["relevance_score"] >= body["results"][1]["relevance_score"]
        assert "total_tokens" in body["usage"]
    async with client.post(url + "/v1/score", json={"model": "m", "text_1": "cat", "text_2": docs}) as r:
        body = await r.json()
    assert body["object"] == "list" and [d["object"] for d in body["data"]] == ["score"] * 3
    assert body["data"][1]["score"] < body["data"][0]["score"]


async def test_metric_names_and_labels(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    async with client.post(url + "/v1/chat/completions", json=chat_body(max_tokens=3)) as r:
        assert r.status == 200
    metrics = await scrape(client, url)
    names = {name for name, _ in metrics}
    assert set(VLLM_METRICS) <= names
    for name in VLLM_METRICS:
        assert all(dict(lb).get("model_name") == "m" for n, lb in metrics if n == name)
    assert (
        value(metrics, "vllm:request_success_total", finished_reason="stop")
        + value(metrics, "vllm:request_success_total", finished_reason="length")
        == 1
    )
    info = next(dict(lb) for n, lb in metrics if n == "vllm:cache_config_info")
    assert info["block_size"] == "16" and info["num_gpu_blocks"] == "64"
    lora = next(dict(lb) for n, lb in metrics if n == "vllm:lora_requests_info")
    assert set(lora) == {"max_lora", "running_lora_adapters", "waiting_lora_adapters"}
    assert value(metrics, "vllm:engine_sleep_state", sleep_state="awake") == 1
    assert "vllm:gpu_cache_usage_perc" not in names


async def test_deprecated_and_other_flavors(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    spec = FleetSpec.from_dict({"timeScale": 0, "models": [
        {"name": "old", "preset": "zero", "deprecatedMetrics": True},
        {"name": "sg", "preset": "zero", "metricsFlavor": "sglang"},
        {"name": "tg", "preset": "zero", "metricsFlavor": "tgi"},
    ]})  # fmt: skip
    old, sg, tg = (await fleet_factory(spec)).replicas
    assert ("vllm:gpu_cache_usage_perc", (("engine", "0"), ("model_name", "old"))) in await scrape(
        client, old.url
    )
    sg_names = {n for n, _ in await scrape(client, sg.url)}
    assert {"sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage"} <= sg_names
    tg_names = {n for n, _ in await scrape(client, tg.url)}
    assert {"tgi_queue_size", "tgi_batch_current_size", "tgi_request_count_total"} <= tg_names


async def test_orca_load_header(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = (await start(fleet_factory)).replicas[0].url
    headers = {"endpoint-load-metrics-format": "TEXT"}
    async with client.post(url + "/v1/chat/completions", json=chat_body(), headers=headers) as r:
        text = r.headers["endpoint-load-metrics"]
    assert text.startswith("TEXT named_metrics.kv_cache_usage_perc=")
    assert "named_metrics.num_requests_waiting=0.0" in text.split(", ")
    headers = {"endpoint-load-metrics-format": "JSON"}
    async with client.post(url + "/v1/chat/completions", json=chat_body(stream=True), headers=headers) as r:
        raw = r.headers["endpoint-load-metrics"]
        await r.read()
    assert raw.startswith("JSON ")
    report = orjson.loads(raw[5:])["named_metrics"]
    assert {"kv_cache_usage_perc", "num_requests_waiting"} <= set(report)
    async with client.post(url + "/v1/chat/completions", json=chat_body()) as r:
        assert "endpoint-load-metrics" not in r.headers
