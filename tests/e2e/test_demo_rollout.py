"""`inferlane demo --rollout`, as the canary rollout guide walks through it: the 7B model starts at 10% on
its canary, and breaking the canary with the simulator's fault injection rolls it back on its own."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from inferlane.cli.demo import DEMO_FLEET, Demo
from inferlane.cli.demo_rollout import MODEL, rollout_examples

CHAT = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
async def demo(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("INFERLANE_ADMIN_TOKEN", raising=False)  # the demo's token is then "demo"
    running = Demo(port=0, admin_port=0, time_scale=0.01, access_log=False, rollout=True)
    app = await running.start()
    assert app.listeners is not None
    canary = running.fleets[[name for name, *_ in DEMO_FLEET].index("qwen-7b-canary")].replicas[0].url
    yield f"http://127.0.0.1:{app.listeners.port}", f"http://127.0.0.1:{app.listeners.admin_port}", canary
    await running.stop()


async def test_breaking_the_canary_rolls_the_demo_back(demo) -> None:
    base, admin, canary = demo
    assert f"curl -s -XPOST {canary}/sim/faults" in rollout_examples(base, admin, canary)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        async with http.get(f"{admin}/admin/rollouts/{MODEL}") as resp:
            status = await resp.json()
        assert (status["phase"], status["weights"]) == ("Progressing", {"stable": 90, "canary": 10})

        async with http.post(canary + "/sim/faults", json={"errorRate": 0.5}) as resp:
            assert resp.status == 200
        for _ in range(400):  # bounded: the next check (every 5s) sees the failures
            async with http.get(f"{admin}/admin/rollouts/{MODEL}") as resp:
                status = await resp.json()
            if status["phase"] == "Degraded":
                break
            for _ in range(10):
                async with http.post(base + "/v1/chat/completions", json=CHAT) as resp:
                    await resp.read()
            await asyncio.sleep(0.02)
        assert status["phase"] == "Degraded", status
        assert status["weights"] == {"stable": 100, "canary": 0}
        assert (
            "error rate" in status["message"]
            and "of canary 'canary' is above the limit 1.00%" in status["message"]
        )

        # mend it and start over, as the guide does
        async with http.delete(canary + "/sim/faults") as resp:
            assert resp.status == 200
        headers = {"Authorization": "Bearer demo"}
        async with http.post(f"{admin}/admin/rollouts/{MODEL}/resume", headers=headers) as resp:
            restarted = await resp.json()
        assert (restarted["phase"], restarted["attempt"]) == ("Progressing", 2)
