"""Load signals on a simulated vLLM fleet: scraped metrics steer picking, a sleeping replica gets nothing,
and a replica whose metrics go stale stops attracting load on its last (idle-looking) reading."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

import inferlane.sim.routes as sim_routes
from inferlane.sim.metrics import render
from support.proxy import proxy_config


def chat(i: int) -> dict[str, object]:
    return {"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": f"question {i}"}]}


def config_for(fleet, picking=None, **signals):
    config = proxy_config({"llm": [r.url for r in fleet.replicas]})
    b = config["backends"][0]
    b["engine"] = "vllm"
    b["picking"] = picking or {}
    b["loadSignals"] = {"interval": "20ms", **signals}
    return config


def pool_of(proxy):
    return proxy.app.holder.current.backends["llm"].pool


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def spread(http, url: str, n: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for i in range(n):
        async with http.post(url, json=chat(i)) as r:
            assert r.status == 200
            seen[r.headers["x-inferlane-endpoint"]] += 1
    return seen


async def test_a_sleeping_replica_gets_nothing_until_it_wakes(fleet, proxies, http):
    sims = await fleet(replicas=3)
    proxy = await proxies(config_for(sims))
    url = proxy.url + "/v1/chat/completions"
    sleeper = sims.replicas[0]
    name = sleeper.url.removeprefix("http://")
    states = pool_of(proxy).states
    async with http.post(sleeper.url + "/sleep?level=1") as r:
        assert r.status == 200
    await until(lambda: any(s.signals.sleeping for s in states.values()))

    seen = await spread(http, url, 12)
    assert name not in seen and sum(seen.values()) == 12
    async with http.get(proxy.admin_url + "/admin/state") as r:
        endpoints = {e["endpoint"]: e for e in (await r.json())["backends"]["llm"]}
    assert endpoints[name]["sleeping"] is True
    assert endpoints[name]["kv_usage"] is not None and endpoints[name]["queue"] == 0
    assert 0 <= endpoints[name]["signal_age_s"] < 5

    async with http.post(sleeper.url + "/wake_up") as r:
        assert r.status == 200
    await until(lambda: not any(s.signals.sleeping for s in states.values()))
    assert name in await spread(http, url, 12)


@pytest.fixture
def metrics_pages(monkeypatch):
    """Replace chosen replicas' metrics pages: text to serve, or None for a page that fails (HTTP 500)."""
    pages: dict[str, str | None] = {}

    def fake_render(registry: CollectorRegistry) -> bytes:
        ctx = next(iter(registry._collector_to_names)).ctx  # type: ignore[attr-defined]
        if ctx.name not in pages:
            return render(registry)
        page = pages[ctx.name]
        if page is None:
            raise RuntimeError("metrics page broken for the test")
        return page.encode()

    monkeypatch.setattr(sim_routes, "render", fake_render)
    return pages


def page(waiting: int, kv: float) -> str:
    return f'vllm:num_requests_waiting{{model_name="m"}} {waiting}\nvllm:kv_cache_usage_perc {kv}\n'


async def test_a_replica_whose_metrics_go_stale_stops_attracting_load(fleet, proxies, http, metrics_pages):
    sims = await fleet(replicas=3)
    a, b, c = (r.name for r in sims.replicas)
    metrics_pages.update({a: page(0, 0.0), b: page(4, 0.2), c: page(4, 0.2)})
    picking = {
        "profile": "least-request",
        "signalMaxAge": "300ms",
        "scorers": {"queue": 5, "kv-cache": 5, "in-flight": 1},
    }
    proxy = await proxies(config_for(sims, picking, orca=False))
    url = proxy.url + "/v1/chat/completions"
    quiet = sims.replicas[0].url.removeprefix("http://")
    states = list(pool_of(proxy).states.values())
    await until(lambda: all(s.signals.queue_depth is not None for s in states))

    fresh = await spread(http, url, 9)
    assert fresh[quiet] == 9  # while its reading is fresh, the idle replica rightly takes the load

    metrics_pages[a] = None  # its metrics page breaks: the last reading ("idle") is all the proxy has
    clock = pool_of(proxy).clock
    stale_state = next(s for s in states if s.endpoint.authority == quiet)
    await until(lambda: clock() - (stale_state.signals.at or 0) > 0.35)
    stale = await spread(http, url, 9)
    assert stale[quiet] < 9 / 2, stale  # the stale "idle" reading no longer pulls traffic


async def test_orca_load_header_feeds_signals_and_is_hidden_unless_asked(fleet, proxies, http):
    sims = await fleet(replicas=1)
    proxy = await proxies(config_for(sims, scrape=False))
    url = proxy.url + "/v1/chat/completions"
    (state,) = pool_of(proxy).states.values()
    assert state.signals.at is None
    async with http.post(url, json=chat(1)) as r:
        assert r.status == 200
        assert "endpoint-load-metrics" not in r.headers
    assert state.signals.at is not None and state.signals.kv_usage is not None
    asked = {"endpoint-load-metrics-format": "JSON"}
    async with http.post(url, json=chat(2), headers=asked) as r:
        assert r.headers["endpoint-load-metrics"].startswith("JSON ")


async def test_a_hung_metrics_page_does_not_age_the_other_endpoints_signals(fleet, upstreams, proxies):
    sims = await fleet(replicas=1)
    hung = await upstreams(default="hang")
    config = config_for(sims, timeout="10s")
    config["backends"][0]["endpoints"].append(hung.url)
    proxy = await proxies(config)
    pool = pool_of(proxy)
    live = next(s for s in pool.states.values() if s.endpoint.url == sims.replicas[0].url)
    await until(lambda: live.signals.at is not None)
    first = live.signals.at
    await until(lambda: (live.signals.scraped_at or 0) > first + 0.2)  # keeps refreshing meanwhile
    assert pool.clock() - live.signals.at < 0.2
