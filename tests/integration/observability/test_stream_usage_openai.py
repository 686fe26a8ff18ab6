"""Stream usage with the real openai client through the proxy to the simulator: a client that asked for usage
gets it; one that did not never sees the extra event, and the tokens are counted either way."""

from __future__ import annotations

from integration.sim.sim_probe import scrape, value
from support.proxy import proxy_config

MESSAGES = [{"role": "user", "content": "Say something long enough."}]


async def test_client_that_asked_for_usage_gets_it(sim, proxies, openai_client, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}))
    client = openai_client(proxy.url)
    stream = await client.chat.completions.create(
        model="m",
        messages=MESSAGES,
        max_tokens=7,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    chunks = [chunk async for chunk in stream]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.completion_tokens == 7
    m = await scrape(http, proxy.admin_url)
    assert value(m, "inferlane_tokens_total", type="output", estimated="false") == 7
    assert value(m, "inferlane_tokens_total", type="input") == usage.prompt_tokens


async def test_client_that_did_not_ask_never_sees_the_usage_event(sim, proxies, openai_client, http):
    fleet = await sim()
    proxy = await proxies(proxy_config({"m": [fleet.replicas[0].url]}))
    client = openai_client(proxy.url)
    for api in ("chat", "completions"):
        if api == "chat":
            stream = await client.chat.completions.create(
                model="m", messages=MESSAGES, max_tokens=5, stream=True, extra_body={"ignore_eos": True}
            )
        else:
            stream = await client.completions.create(
                model="m", prompt="Once upon", max_tokens=5, stream=True, extra_body={"ignore_eos": True}
            )
        chunks = [chunk async for chunk in stream]
        assert all(chunk.usage is None for chunk in chunks)
        assert all(chunk.choices for chunk in chunks)
    m = await scrape(http, proxy.admin_url)
    assert value(m, "inferlane_tokens_total", type="output", estimated="false") == 10
    assert value(m, "inferlane_tokens_total", estimated="true") == 0
    assert value(m, "ai_inference_tokens_total", model="m", type="output") == 10
