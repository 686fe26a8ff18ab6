"""The seed's completions → chat rewrite with real protocol translation: the official openai client calls
/v1/completions through the proxy, a simulated chat model answers on /v1/chat/completions, and the client
gets completions objects back, streamed and not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import openai
import pytest

from inferlane.sim import FleetSpec, SimFleet
from support.proxy import RunningProxy, proxy_config

MODEL = "qwen2.5-7b-instruct"
PROMPT = "Once upon a time"  # 16 characters: 4 tokens to the simulator as a raw prompt


@pytest.fixture
async def chat_proxy(proxies) -> AsyncIterator[RunningProxy]:
    fleet = SimFleet(FleetSpec.quick(model=MODEL, time_scale=0.0))
    await fleet.start()
    route = {
        "name": "completions-as-chat",
        "pathPrefix": "/v1/completions",
        "headers": {"x-model-type": {"exact": "chat"}},
        "translate": "completionsToChat",
    }
    yield await proxies(proxy_config({"chat": [fleet.replicas[0].url]}, routing={"endpoints": [route]}))
    await fleet.stop()


@pytest.fixture
async def clients(chat_proxy) -> AsyncIterator[tuple[openai.AsyncOpenAI, openai.AsyncOpenAI]]:
    base = chat_proxy.url + "/v1"
    chat_typed = openai.AsyncOpenAI(
        base_url=base, api_key="k", max_retries=0, default_headers={"x-model-type": "chat"}
    )
    plain = openai.AsyncOpenAI(base_url=base, api_key="k", max_retries=0)
    yield chat_typed, plain
    await chat_typed.close()
    await plain.close()


async def test_non_streaming_round_trip(clients):
    chat_typed, plain = clients
    raw = await chat_typed.completions.with_raw_response.create(
        model=MODEL, prompt=PROMPT, max_tokens=6, temperature=0.5, stop=["zzz"], user="u1", seed=3,
        extra_body={"ignore_eos": True},
    )  # fmt: skip
    assert raw.headers["x-inferlane-route"] == "completions-as-chat"
    answer = raw.parse()
    assert answer.object == "text_completion" and answer.id.startswith("cmpl-")
    assert answer.model == MODEL
    (choice,) = answer.choices
    assert choice.finish_reason == "length" and len(choice.text) == 24  # 6 tokens of 4 characters
    assert answer.usage is not None and answer.usage.completion_tokens == 6
    # the chat template wrapped the prompt: the chat endpoint really served it
    assert answer.usage.prompt_tokens > 4

    direct = await plain.completions.create(model=MODEL, prompt=PROMPT, max_tokens=2)
    assert direct.usage is not None and direct.usage.prompt_tokens == 4


async def test_default_max_tokens_is_the_completions_default(clients):
    chat_typed, _ = clients
    answer = await chat_typed.completions.create(model=MODEL, prompt=PROMPT, extra_body={"ignore_eos": True})
    assert answer.usage is not None and answer.usage.completion_tokens == 16


async def test_streaming_round_trip_with_choices_and_usage(clients):
    chat_typed, _ = clients
    stream = await chat_typed.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=5, n=2, stream=True, stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )  # fmt: skip
    texts, finishes, usage, objects = {0: "", 1: ""}, {}, None, set()
    async for chunk in stream:
        objects.add(chunk.object)
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            texts[choice.index] += choice.text
            if choice.finish_reason is not None:
                finishes[choice.index] = choice.finish_reason
    assert objects == {"text_completion"}
    assert [len(t) for t in texts.values()] == [20, 20]
    assert finishes == {0: "length", 1: "length"}
    assert usage is not None and usage.completion_tokens == 10 and usage.prompt_tokens > 4


async def test_what_chat_cannot_express_is_a_clear_400(clients):
    chat_typed, _ = clients
    with pytest.raises(openai.BadRequestError, match="'echo' is not supported"):
        await chat_typed.completions.create(model=MODEL, prompt=PROMPT, echo=True)
    with pytest.raises(openai.BadRequestError, match="single prompt"):
        await chat_typed.completions.create(model=MODEL, prompt=["a", "b"])


async def test_upstream_errors_pass_through_unchanged(clients):
    chat_typed, _ = clients
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        await chat_typed.completions.create(model="no-such-model", prompt=PROMPT)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        stream = await chat_typed.completions.create(model="no-such-model", prompt=PROMPT, stream=True)
        async for _ in stream:
            pass


async def test_upstream_sees_a_chat_request_asked_uncompressed(upstreams, proxies, http):
    up = await upstreams()
    route = {"path": "/v1/completions", "translate": "completionsToChat", "name": "as-chat"}
    proxy = await proxies(proxy_config({"chat": [up.url]}, routing={"endpoints": [route]}))
    body = {"model": "m", "prompt": "hi", "max_tokens": 3, "logprobs": 2}
    async with http.post(
        proxy.url + "/v1/completions?v=1", json=body, headers={"Accept-Encoding": "gzip"}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["object"] == "text_completion"
    seen = up.requests[-1]
    assert seen.path == "/v1/chat/completions?v=1"
    assert seen.headers["Accept-Encoding"] == "identity"
    assert json.loads(seen.body) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
        "logprobs": True,
        "top_logprobs": 2,
    }
