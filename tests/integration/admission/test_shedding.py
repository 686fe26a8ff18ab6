"""Admission control through a real proxy on a simulated vLLM fleet: under overload sheddable traffic is
rejected at once (429, Retry-After, reason) while critical traffic waits and is served; queue timeouts and
client hang-ups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from support.proxy import proxy_config

HOLD = {"x-sim-fault": "latency=400ms"}  # each request occupies its replica for 0.4 s


def chat(i: int) -> dict[str, object]:
    # ~400 bytes of unique prompt: ~100 uncached tokens, which saturates a replica on its own below
    return {"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": f"q{i} " * 100}]}


def config_for(fleet, **admission):
    config = proxy_config({"llm": [r.url for r in fleet.replicas]})
    b = config["backends"][0]
    b["engine"] = "vllm"
    b["picking"] = {"prefillTokensPerS": 50, "ttftBudget": "1s"}  # 50 in-flight prompt tokens per replica
    b["loadSignals"] = {"scrape": False}
    config["retry"] = {"attempts": 0}
    config["admission"] = admission
    return config


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def in_flight(proxy) -> int:
    return sum(s.in_flight for s in proxy.app.holder.current.backends["llm"].pool.states.values())


def gate(proxy):
    (stage,) = [s for s in proxy.app.holder.current.decides if s.name == "admission"]
    return stage.gates["llm"]


async def post(http, url, i, criticality=None, **kw):
    headers = dict(HOLD)
    if criticality:
        headers["x-inferlane-criticality"] = criticality
    async with http.post(url, json=chat(i), headers=headers, **kw) as r:
        return r.status, dict(r.headers), await r.read()


async def test_sheddable_is_rejected_first_while_critical_is_served(fleet, proxies, http):
    sims = await fleet(replicas=2)
    proxy = await proxies(config_for(sims))
    url = proxy.url + "/v1/chat/completions"
    busy = [asyncio.create_task(post(http, url, i)) for i in range(2)]
    await until(lambda: in_flight(proxy) == 2)  # both replicas saturated

    shed = [post(http, url, 10 + i, "sheddable") for i in range(6)]
    critical = [post(http, url, 20 + i, "critical") for i in range(4)]
    results = await asyncio.gather(*shed, *critical, *busy)

    for status, headers, body in results[:6]:
        assert status == 429
        assert headers["x-inferlane-dropped-reason"] == "rejected-saturated"
        assert int(headers["Retry-After"]) >= 1
        assert b"request dropped by admission control" in body
    assert [status for status, _, _ in results[6:]] == [200] * 6  # critical waited, then served
    async with http.get(proxy.admin_url + "/metrics") as r:
        page = await r.text()
    assert (
        'inferlane_admission_rejected_total{backend="llm",criticality="sheddable",'
        'reason="rejected-saturated"} 6.0' in page
    )
    assert (
        'inferlane_admission_wait_seconds_count{backend="llm",criticality="critical",outcome="admitted"} 4.0'
        in page
    )


async def test_critical_waiters_go_before_standard_ones(fleet, proxies, http):
    sims = await fleet(replicas=1)
    proxy = await proxies(config_for(sims))
    url = proxy.url + "/v1/chat/completions"
    order: list[str] = []

    async def tracked(i, criticality):
        status, _, _ = await post(http, url, i, criticality)
        order.append(criticality)
        return status

    busy = asyncio.create_task(post(http, url, 0))
    await until(lambda: in_flight(proxy) == 1)
    standard = [asyncio.create_task(tracked(1 + i, "standard")) for i in range(2)]
    await until(lambda: len(gate(proxy).queue) == 2)
    critical = [asyncio.create_task(tracked(5 + i, "critical")) for i in range(2)]
    statuses = await asyncio.gather(*standard, *critical)
    await busy
    assert statuses == [200] * 4
    assert order == ["critical", "critical", "standard", "standard"]


async def test_a_queue_timeout_is_429_with_a_reason(fleet, proxies, http):
    sims = await fleet(replicas=1)
    proxy = await proxies(config_for(sims, queueTimeout="100ms"))
    url = proxy.url + "/v1/chat/completions"
    busy = asyncio.create_task(post(http, url, 0))
    await until(lambda: in_flight(proxy) == 1)
    status, headers, _ = await post(http, url, 1)
    assert status == 429 and headers["x-inferlane-dropped-reason"] == "rejected-ttl-expired"
    assert (await busy)[0] == 200


async def test_a_client_hang_up_leaves_the_queue_at_once(fleet, proxies, http):
    sims = await fleet(replicas=1)
    proxy = await proxies(config_for(sims))  # queue timeout 30 s
    url = proxy.url + "/v1/chat/completions"
    busy = asyncio.create_task(post(http, url, 0))
    await until(lambda: in_flight(proxy) == 1)
    hang_up = asyncio.create_task(post(http, url, 2, timeout=aiohttp.ClientTimeout(total=5)))
    await until(lambda: len(gate(proxy).queue) == 1)
    hang_up.cancel()
    await until(lambda: len(gate(proxy).queue) == 0, timeout=1.0)  # gone at once, not at the timeout
    assert (await busy)[0] == 200
