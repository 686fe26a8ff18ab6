"""The real ``openai`` client reads the simulator's answers, streamed and not."""

from __future__ import annotations

import pytest
from openai import AsyncOpenAI, NotFoundError
from sim_probe import FleetFactory


async def test_streaming_chat_with_usage(fleet_factory: FleetFactory) -> None:
    fleet = await fleet_factory(model="qwen", time_scale=0.001)
    async with AsyncOpenAI(base_url=fleet.replicas[0].url + "/v1", api_key="x", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="qwen",
            messages=[{"role": "user", "content": "Tell me something."}],
            max_tokens=7,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"ignore_eos": True},
        )
        text, reasons, usage, roles = [], [], None, []
        async for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                roles.append(choice.delta.role)
                text.append(choice.delta.content or "")
                reasons.append(choice.finish_reason)
    assert roles[0] == "assistant" and reasons[-1] == "length" and reasons.count("length") == 1
    assert usage is not None and usage.completion_tokens == 7 and len("".join(text)) == 28
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0


async def test_streaming_completions_and_plain_chat(fleet_factory: FleetFactory) -> None:
    fleet = await fleet_factory(model="qwen", time_scale=0.001)
    async with AsyncOpenAI(base_url=fleet.replicas[0].url + "/v1", api_key="x", max_retries=0) as client:
        stream = await client.completions.create(
            model="qwen", prompt="Once upon", max_tokens=4, stream=True, n=2
        )
        per_choice: dict[int, str] = {0: "", 1: ""}
        async for chunk in stream:
            for choice in chunk.choices:
                per_choice[choice.index] += choice.text
        assert all(len(t) <= 16 and t for t in per_choice.values())
        reply = await client.chat.completions.create(
            model="qwen", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=3
        )
        assert (
            reply.choices[0].message.content
            and reply.usage is not None
            and reply.usage.completion_tokens <= 3
        )
        models = await client.models.list()
        assert [m.id for m in models.data] == ["qwen"]
        with pytest.raises(NotFoundError, match="does not exist"):
            await client.chat.completions.create(model="other", messages=[{"role": "user", "content": "x"}])
