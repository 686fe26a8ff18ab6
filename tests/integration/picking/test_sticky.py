"""Load-aware picking through a real proxy on a simulated vLLM fleet: prefix stickiness, spill when the warm
replica saturates, the chosen endpoint and (admin-gated) scores in response headers."""

from __future__ import annotations

import asyncio
from collections import Counter

from support.proxy import proxy_config

SYSTEM = "You are the support assistant of tenant alpha. " * 90  # ~4 KB, ~1,000 tokens


def chat(question: str, system: str = SYSTEM) -> dict[str, object]:
    return {
        "model": "m",
        "max_tokens": 4,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": question}],
    }


def backend(fleet, **picking):
    config = proxy_config({"llm": [r.url for r in fleet.replicas]})
    config["backends"][0]["engine"] = "vllm"
    config["backends"][0]["picking"] = picking
    config["backends"][0]["loadSignals"] = {"scrape": False}
    return config


async def test_prefix_sticks_to_one_replica_then_spills_when_it_saturates(fleet, proxies, http):
    sims = await fleet(replicas=3)
    # in-flight prompt-token limit per replica: 1,000 tok/s x 1 s = 1,000 uncached tokens
    proxy = await proxies(backend(sims, prefillTokensPerS=1000, ttftBudget="1s"))
    url = proxy.url + "/v1/chat/completions"

    sequential = []
    for i in range(6):
        async with http.post(url, json=chat(f"question {i}: how do I reset my password?")) as r:
            assert r.status == 200
            sequential.append(r.headers["x-inferlane-endpoint"])
    assert len(set(sequential)) == 1, sequential  # one warm replica serves the whole prefix
    warm = sequential[0]

    async def held(i: int) -> str:
        # each request stays in flight ~0.5 s on its replica, so in-flight prompt tokens pile up
        headers = {"x-sim-fault": "latency=500ms"}
        async with http.post(url, json=chat(f"burst question {i:03d}? " * 20), headers=headers) as r:
            assert r.status == 200
            return r.headers["x-inferlane-endpoint"]

    burst = Counter(await asyncio.gather(*(held(i) for i in range(24))))
    assert burst.most_common(1)[0][0] == warm  # the warm replica takes the most ...
    assert len(burst) >= 2, burst  # ... until it is saturated: then the prefix spills
    assert burst[warm] < 24


async def test_scores_header_only_for_the_admin(fleet, proxies, http):
    sims = await fleet(replicas=2)
    config = backend(sims)
    config["admin"] = {"token": "s3cret"}
    proxy = await proxies(config)
    url = proxy.url + "/v1/chat/completions"
    debug = {"x-inferlane-debug": "scores"}
    async with http.post(url, json=chat("hi"), headers=debug) as r:
        assert r.status == 200
        assert "x-inferlane-endpoint" in r.headers
        assert "x-inferlane-endpoint-scores" not in r.headers
    admin = {**debug, "x-inferlane-admin-token": "s3cret"}
    async with http.post(url, json=chat("hi again"), headers=admin) as r:
        assert r.status == 200
        scores = r.headers["x-inferlane-endpoint-scores"]
    authorities = {r.url.removeprefix("http://") for r in sims.replicas}
    assert {part.split("=")[0] for part in scores.split(", ")} <= authorities
