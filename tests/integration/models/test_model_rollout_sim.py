"""A progressive rollout driving the registry's split on the simulator: a faulty canary rolls back on its
own, a healthy one reaches 100%. (Needs the rollout controller, issue5-rollout; skipped without it.)"""

from __future__ import annotations

import pytest

from support.proxy import proxy_config

pytest.importorskip("inferlane.rollout.controller")

STABLE, CANARY = "qwen2.5-7b-instruct", "qwen2.5-7b-instruct-canary"


def _config(urls: dict[str, list[str]]) -> dict:
    models = [
        {
            "name": "qwen-chat",
            "versions": [
                {"version": "v1", "backend": "stable", "servedName": STABLE, "weight": 100},
                {"version": "v2", "backend": "canary", "servedName": CANARY, "weight": 0, "canary": True},
            ],
        }
    ]
    rollout = {
        "model": "qwen-chat",
        "stableVersion": "v1",
        "canaryVersion": "v2",
        "steps": [{"setWeight": 50}, {"pause": {"duration": "200ms"}}, {"setWeight": 100}],
        "analysis": {"minSamples": 10, "interval": "100ms", "window": "30s", "maxP99Latency": "5s"},
    }
    # 500 is not retried by default, so the canary's failures reach the client and the analysis
    return proxy_config(urls, models=models, rollouts=[rollout], retry={"attempts": 0})


async def _drive(http, proxy, until: set[str], limit: int = 3000) -> dict:
    payload = {"model": "qwen-chat", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(limit):
        async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
            await resp.read()
        async with http.get(proxy.admin_url + "/admin/rollouts/qwen-chat") as resp:
            status = await resp.json()
        if status["phase"] in until:
            return status
    raise AssertionError(f"rollout still {status['phase']}: {status['message']}")


async def _versions(http, proxy, count: int = 20) -> set[str]:
    payload = {"model": "qwen-chat", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}
    seen = set()
    for i in range(count):
        async with http.post(proxy.url + "/v1/chat/completions", json={**payload, "user": f"u{i}"}) as resp:
            seen.add(resp.headers["x-inferlane-version"])
    return seen


async def test_a_faulty_canary_is_rolled_back_on_its_own(sim, proxies, http) -> None:
    stable = await sim(STABLE)
    canary = await sim(CANARY, faults={"errorRate": 1.0, "errorStatuses": [500]})
    proxy = await proxies(_config({"stable": stable, "canary": canary}))
    status = await _drive(http, proxy, {"Degraded", "Healthy"})
    assert status["phase"] == "Degraded"
    assert status["weights"] == {"v1": 100, "v2": 0}
    assert await _versions(http, proxy) == {"v1"}


async def test_a_healthy_canary_reaches_100_percent(sim, proxies, http) -> None:
    stable, canary = await sim(STABLE), await sim(CANARY)
    proxy = await proxies(_config({"stable": stable, "canary": canary}))
    status = await _drive(http, proxy, {"Degraded", "Healthy"})
    assert status["phase"] == "Healthy"
    assert status["weights"] == {"v1": 0, "v2": 100}
    assert await _versions(http, proxy) == {"v2"}
