"""Rollouts end to end on the simulator: the proxy's own measurements move (or roll back) the canary.

Short pauses and intervals; every wait is a bounded loop on a condition, never a wall-clock assertion.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from inferlane.sim import FleetSpec, SimFleet
from support.proxy import RunningProxy, proxy_config

CHAT = {"model": "qwen-chat", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def fleets() -> AsyncIterator[tuple[SimFleet, SimFleet]]:
    stable = SimFleet(FleetSpec.quick(model="qwen2.5-7b-instruct", replicas=2, time_scale=0.0, port=0))
    canary = SimFleet(FleetSpec.quick(model="qwen2.5-7b-instruct-canary", time_scale=0.0, port=0))
    await stable.start()
    await canary.start()
    yield stable, canary
    await canary.stop()
    await stable.stop()


def config(stable: SimFleet, canary: SimFleet, steps: list[dict[str, Any]], **model: Any) -> dict[str, Any]:
    backup = {
        "name": "backup",
        "versions": [{"version": "1", "backend": "stable", "servedName": "qwen2.5-7b-instruct"}],
    }
    return proxy_config(
        {"stable": [r.url for r in stable.replicas], "canary": [r.url for r in canary.replicas]},
        routing={"defaultBackend": "stable"},
        models=[
            {
                "name": "qwen-chat",
                "versions": [
                    {"version": "v1", "backend": "stable", "servedName": "qwen2.5-7b-instruct", "weight": 1},
                    {
                        "version": "v2",
                        "backend": "canary",
                        "servedName": "qwen2.5-7b-instruct-canary",
                        "weight": 0,
                    },
                ],
                **model,
            },
            backup,
        ],
        rollouts=[
            {
                "model": "qwen-chat",
                "stableVersion": "v1",
                "canaryVersion": "v2",
                "steps": steps,
                "analysis": {"interval": "50ms", "window": "30s", "minSamples": 20},
            }
        ],
    )


async def traffic_until(
    http: aiohttp.ClientSession, proxy: RunningProxy, phase: str, batches: int = 200
) -> Counter[tuple[str, int]]:
    """Send batches of concurrent chats until the rollout reaches ``phase``; count (version, status)."""
    seen: Counter[tuple[str, int]] = Counter()

    async def chat() -> None:
        async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
            await resp.read()
            seen[(resp.headers.get("x-inferlane-version", "-"), resp.status)] += 1

    for _ in range(batches):
        if proxy.app.rollouts.describe("qwen-chat")["phase"] == phase:
            return seen
        await asyncio.gather(*(chat() for _ in range(10)))
        await asyncio.sleep(0.01)  # let the controller tick between batches
    raise AssertionError(f"never reached {phase}: {proxy.app.rollouts.describe('qwen-chat')}")


async def status(http: aiohttp.ClientSession, proxy: RunningProxy) -> dict[str, Any]:
    async with http.get(proxy.admin_url + "/admin/rollouts/qwen-chat") as resp:
        return dict(await resp.json())


async def test_a_faulty_canary_rolls_back_on_its_own(fleets, proxies, http) -> None:
    stable, canary = fleets
    canary.replicas[0].faults.set(error_rate=0.5, error_statuses=[500])
    steps = [{"setWeight": 50}, {"pause": {"duration": "10m"}}, {"setWeight": 100}]
    proxy = await proxies(config(stable, canary, steps))

    seen = await traffic_until(http, proxy, "Degraded")
    assert seen[("v2", 500)] > 0  # the canary really got traffic and failed some of it

    answer = await status(http, proxy)
    assert answer["weights"] == {"v1": 100, "v2": 0}
    assert answer["rollbackReason"] == "error_rate"
    assert "rolled back to 100% on stable 'v1': error rate" in answer["message"]
    after = Counter()
    for _ in range(30):
        async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
            after[(resp.headers["x-inferlane-version"], resp.status)] += 1
    assert after == Counter({("v1", 200): 30})
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    assert 'inferlane_rollout_rollbacks_total{model="qwen-chat",reason="error_rate"} 1.0' in text
    assert 'inferlane_rollout_phase{model="qwen-chat",phase="Degraded"} 1.0' in text
    # what an Argo AnalysisTemplate would select on instead (docs/guides/canary-rollout.md)
    argo = [line for line in text.splitlines() if line.startswith("http_requests_total{")]
    assert any(
        'service="canary"' in line and 'code="5xx"' in line and 'version="v2"' in line for line in argo
    )


async def test_a_healthy_canary_reaches_100_percent(fleets, proxies, http) -> None:
    stable, canary = fleets
    steps = [
        {"setWeight": 20},
        {"pause": {"duration": "200ms"}},
        {"setWeight": 60},
        {"pause": {"duration": "200ms"}},
    ]
    proxy = await proxies(config(stable, canary, steps))

    seen = await traffic_until(http, proxy, "Healthy")
    assert seen[("v2", 200)] > 0 and seen[("v1", 200)] > 0
    assert {status for (_, status) in seen} == {200}

    answer = await status(http, proxy)
    assert answer["weights"] == {"v1": 0, "v2": 100}
    assert answer["analysis"]["lastResult"] == "Passed"
    for _ in range(10):
        async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
            assert resp.status == 200 and resp.headers["x-inferlane-version"] == "v2"


async def test_a_canary_masked_by_fallbacks_still_rolls_back(fleets, proxies, http) -> None:
    """Clients never see the canary fail (a fallback model answers), yet the analysis counts its failures."""
    stable, canary = fleets
    canary.replicas[0].faults.set(error_rate=1.0, error_statuses=[500])
    steps = [{"setWeight": 50}, {"pause": {"duration": "10m"}}]
    proxy = await proxies(config(stable, canary, steps, fallbacks=[{"model": "backup"}]))

    seen = await traffic_until(http, proxy, "Degraded")
    assert {status for (_, status) in seen} == {200}
    assert (await status(http, proxy))["rollbackReason"] == "error_rate"
