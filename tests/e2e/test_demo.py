"""The demo: a simulated fleet behind the proxy, driven with the official openai client."""

from __future__ import annotations

import aiohttp
import openai
import pytest

from inferlane.cli.demo import Demo


@pytest.fixture
async def demo():
    running = Demo(port=0, admin_port=0, time_scale=0.01, access_log=False)
    app = await running.start()
    assert app.listeners is not None
    yield f"http://127.0.0.1:{app.listeners.port}", f"http://127.0.0.1:{app.listeners.admin_port}"
    await running.stop()


async def test_models_are_routed_to_their_backends(demo):
    base, _ = demo
    async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="x", max_retries=0) as client:
        models = (
            "qwen2.5-7b-instruct",
            "qwen2.5-7b-instruct-canary",
            "qwen2.5-32b-instruct",
            "qwen2.5-72b-instruct",
        )
        for model in models:
            reply = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=8
            )
            # the demo splits qwen2.5-7b-instruct 90/10 with a canary the server knows as "…-canary"
            assert reply.model in (model, model + "-canary")
            assert reply.usage.completion_tokens == 8


async def test_streaming_through_the_proxy_with_usage(demo):
    base, _ = demo
    async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="x", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="qwen2.5-72b-instruct",
            messages=[{"role": "user", "content": "tell me"}],
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage.completion_tokens == 20


async def test_embeddings_and_tf_serving_go_to_their_servers(demo):
    base, admin = demo
    async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="x", max_retries=0) as client:
        result = await client.embeddings.create(model="bge-small-en-v1.5", input=["hello", "hello"])
    assert result.data[0].embedding == result.data[1].embedding
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/v1/models/resnet50:predict", json={"instances": [[1.0, 2.0]]}) as resp:
            assert resp.status == 200
            assert len((await resp.json())["predictions"]) == 1
        async with http.get(admin + "/metrics") as resp:
            text = await resp.text()
    assert 'route="tfserving"' in text
    assert 'backend="embed"' in text


async def test_a_replica_fault_is_retried_on_the_other_replica(demo):
    base, admin = demo
    async with aiohttp.ClientSession() as http:
        async with http.get(admin + "/admin/state") as resp:
            endpoints = [e["endpoint"] for e in (await resp.json())["backends"]["qwen-7b"]]
        async with http.post(
            f"http://{endpoints[0]}/sim/faults", json={"errorRate": 1.0, "errorStatuses": [503]}
        ) as r:
            assert r.status == 200, await r.text()
        body = {
            "model": "qwen2.5-7b-instruct",
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 4,
        }
        for _ in range(6):
            async with http.post(base + "/v1/chat/completions", json=body) as resp:
                assert resp.status == 200
