"""The official openai client works through the proxy, streaming included."""

from __future__ import annotations

import openai
import pytest

from support.proxy import proxy_config


@pytest.fixture
async def client_for(proxies):
    clients = []

    async def make(url: str) -> openai.AsyncOpenAI:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_streaming_chunks_arrive_in_order(upstreams, proxies, client_for):
    up = await upstreams(default="stream=12")
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    client = await client_for(proxy.url)
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    texts = [chunk.choices[0].delta.content async for chunk in stream]
    assert texts == [f"t{i} " for i in range(12)]
    assert up.requests[-1].headers["Authorization"] == "Bearer sk-test"


async def test_mid_stream_failure_raises_api_error_in_the_client(upstreams, proxies, client_for):
    up = await upstreams(default="reset-mid-stream=2")
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    client = await client_for(proxy.url)
    stream = await client.chat.completions.create(model="m", messages=[], stream=True)
    received = []
    with pytest.raises(openai.APIError, match="disconnected mid-stream"):
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert received == ["t0 ", "t1 "]


async def test_errors_surface_as_typed_openai_exceptions(upstreams, proxies, client_for):
    proxy = await proxies(proxy_config({"llm": ["http://127.0.0.1:9"]}, retry={"attempts": 0}))
    client = await client_for(proxy.url)
    with pytest.raises(openai.InternalServerError) as info:
        await client.chat.completions.create(model="m", messages=[])
    assert info.value.status_code == 502
    assert "upstream connect error" in str(info.value)
    with pytest.raises(openai.BadRequestError, match="you must provide a model parameter"):
        await client.post("/chat/completions", body={"messages": []}, cast_to=object)
