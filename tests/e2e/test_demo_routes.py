"""The demo's routes: model `auto` goes by prompt size, and completions with `x-model-type: chat` are
answered by the chat API in the completions shape, through the official openai client."""

from __future__ import annotations

import openai
import pytest

from inferlane.cli.demo import Demo


@pytest.fixture
async def client():
    running = Demo(port=0, admin_port=0, time_scale=0.01, access_log=False)
    app = await running.start()
    assert app.listeners is not None
    base = f"http://127.0.0.1:{app.listeners.port}/v1"
    async with openai.AsyncOpenAI(base_url=base, api_key="x", max_retries=0) as openai_client:
        yield openai_client
    await running.stop()


async def test_auto_model_is_routed_by_prompt_size(client):
    for words, size, model in ((10, "small", "qwen2.5-7b-instruct"), (7200, "large", "qwen2.5-72b-instruct")):
        raw = await client.completions.with_raw_response.create(
            model="auto", prompt="word " * words, max_tokens=2
        )
        assert raw.headers["x-token-range"] == size
        # the demo splits the 7B model 90/10 with a canary whose served name is `<model>-canary`
        assert raw.parse().model in (model, f"{model}-canary")


async def test_completions_for_a_chat_model_are_translated(client):
    stream = await client.completions.create(
        model="qwen2.5-7b-instruct",
        prompt="Hello",
        max_tokens=4,
        stream=True,
        extra_headers={"x-model-type": "chat"},
        extra_body={"ignore_eos": True},
    )
    chunks = [chunk async for chunk in stream]
    assert {chunk.object for chunk in chunks} == {"text_completion"}
    assert len("".join(c.text for chunk in chunks for c in chunk.choices)) == 16
