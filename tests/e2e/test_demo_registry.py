"""The demo's model registry, driven with the official openai client: aliases, A/B header, 404, listing."""

from __future__ import annotations

import openai
import pytest

from inferlane.cli.demo import Demo


@pytest.fixture
async def base():
    running = Demo(port=0, admin_port=0, time_scale=0.01, access_log=False)
    app = await running.start()
    assert app.listeners is not None
    yield f"http://127.0.0.1:{app.listeners.port}/v1"
    await running.stop()


async def test_the_demo_registry_answers_like_the_docs_say(base):
    hi = [{"role": "user", "content": "hi"}]
    async with openai.AsyncOpenAI(base_url=base, api_key="x", max_retries=0) as client:
        listed = {model.id async for model in client.models.list()}
        assert {"qwen2.5-7b-instruct", "gpt-4o", "gpt-4o-mini", "bge-small-en-v1.5"} <= listed

        reply = await client.chat.completions.create(model="gpt-4o", messages=hi, max_tokens=4)
        assert reply.model == "qwen2.5-72b-instruct"

        raw = await client.chat.completions.with_raw_response.create(
            model="qwen2.5-7b-instruct",
            messages=hi,
            max_tokens=4,
            extra_headers={"x-experiment": "treatment-a"},
        )
        assert raw.headers["x-inferlane-version"] == "canary"
        assert raw.parse().model == "qwen2.5-7b-instruct-canary"

        versions = set()
        for i in range(20):
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=hi, max_tokens=2, user=f"user-{i % 2}"
            )
            versions.add((i % 2, raw.headers["x-inferlane-version"]))
        assert len(versions) == 2  # each of the two users kept one version

        with pytest.raises(openai.NotFoundError, match="model not found in registry: gpt-5"):
            await client.chat.completions.create(model="gpt-5", messages=hi, max_tokens=4)
