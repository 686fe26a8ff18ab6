"""Mirroring: shadow copies reach the mirror target, never slow or change the primary, and are counted."""

from __future__ import annotations

import asyncio
import json

from support.proxy import proxy_config


def _models(**mirror):
    return [
        {
            "name": "chat",
            "versions": [
                {"version": "stable", "backend": "primary", "servedName": "chat-v1"},
                {"version": "next", "backend": "shadow", "weight": 0, "servedName": "chat-v2"},
            ],
            "mirror": mirror,
        }
    ]


async def _chat(http, proxy, **body):
    payload = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], **body}
    async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
        return resp.status, await resp.json()


async def _until(condition, limit: int = 500) -> None:
    for _ in range(limit):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _mirror_counts(http, proxy) -> dict[str, float]:
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    counts = {}
    for line in text.splitlines():
        if line.startswith("inferlane_mirror_requests_total{"):
            result = line.split('result="', 1)[1].split('"', 1)[0]
            counts[result] = float(line.rsplit(" ", 1)[1])
    return counts


async def test_mirror_gets_a_copy_with_its_served_name_and_the_primary_is_untouched(
    upstreams, proxies, http
) -> None:
    primary, shadow = await upstreams(name="primary"), await upstreams(name="shadow")
    urls = {"primary": [primary.url], "shadow": [shadow.url]}
    proxy = await proxies(proxy_config(urls, models=_models(version="next")))
    for _ in range(3):
        status, body = await _chat(http, proxy)
        assert status == 200 and body["upstream"] == "primary"
    await _until(lambda: len(shadow.requests) == 3)
    assert json.loads(shadow.requests[0].body)["model"] == "chat-v2"
    assert json.loads(primary.requests[0].body)["model"] == "chat-v1"
    assert shadow.requests[0].headers["x-inferlane-shadow"] == "true"
    assert "x-inferlane-shadow" not in primary.requests[0].headers
    counts = {}
    for _ in range(100):
        counts = await _mirror_counts(http, proxy)
        if counts.get("success") == 3:
            break
        await asyncio.sleep(0.01)
    assert counts == {"success": 3.0}


async def test_a_hanging_mirror_target_does_not_slow_the_primary(upstreams, proxies, http) -> None:
    primary, shadow = await upstreams(name="primary"), await upstreams(name="shadow", default="hang")
    urls = {"primary": [primary.url], "shadow": [shadow.url]}
    proxy = await proxies(proxy_config(urls, models=_models(backend="shadow", maxConcurrent=2, timeout="1h")))
    for _ in range(5):
        status, body = await _chat(http, proxy)
        assert status == 200 and body["upstream"] == "primary"
    # every primary answer came back while the mirror target still holds the copies it accepted
    await _until(lambda: len(shadow.requests) == 2)
    assert await _mirror_counts(http, proxy) == {"dropped": 3.0}
    interceptors = proxy.app.holder.current.describe()["interceptors"]
    assert next(name for name in interceptors if name != "metrics") == "mirror"  # outside retry, fallback


async def test_mirror_percent_copies_a_share(upstreams, proxies, http) -> None:
    primary, shadow = await upstreams(name="primary"), await upstreams(name="shadow")
    urls = {"primary": [primary.url], "shadow": [shadow.url]}
    proxy = await proxies(proxy_config(urls, models=_models(version="next", percent=0)))
    for _ in range(5):
        await _chat(http, proxy)
    assert len(primary.requests) == 5
    assert await _mirror_counts(http, proxy) == {}  # no copy was even started
    assert not shadow.requests
