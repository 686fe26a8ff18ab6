"""Hot reload: file change and SIGHUP swap pipelines atomically; bad configs keep the old one."""

from __future__ import annotations

import asyncio

import yaml

from support.proxy import proxy_config

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def _upstream_name(http, url):
    async with http.post(url + "/v1/chat/completions", json=CHAT) as resp:
        assert resp.status == 200
        return (await resp.json())["upstream"]


async def test_file_change_reloads_and_invalid_config_keeps_running(upstreams, proxies, http, tmp_path):
    a, b = await upstreams(name="a"), await upstreams(name="b")
    path = tmp_path / "proxy.yaml"
    config = proxy_config({"a": [a.url], "b": [b.url]}, routing={"defaultBackend": "a"})
    path.write_text(yaml.safe_dump(config))
    proxy = await proxies(config, config_path=str(path))
    assert await _upstream_name(http, proxy.url) == "a"

    config["routing"]["defaultBackend"] = "b"
    path.write_text(yaml.safe_dump(config))
    for _ in range(300):
        if proxy.app.generation == 2:
            break
        await asyncio.sleep(0.02)
    assert await _upstream_name(http, proxy.url) == "b"

    path.write_text("server:\n  prot: 1\n")
    assert await proxy.app.reload() is False
    assert await _upstream_name(http, proxy.url) == "b"
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    assert 'inferlane_config_reloads_total{result="failure"} 1.0' in text
    assert "inferlane_config_last_reload_successful 0.0" in text


async def test_admin_reload_needs_the_token(upstreams, proxies, http, tmp_path):
    up = await upstreams()
    path = tmp_path / "proxy.yaml"
    config = proxy_config({"a": [up.url]}, admin={"token": "s3cret"})
    path.write_text(yaml.safe_dump(config))
    proxy = await proxies(config, config_path=str(path))
    async with http.post(proxy.admin_url + "/admin/reload") as resp:
        assert resp.status == 401
    async with http.post(proxy.admin_url + "/admin/reload", headers={"Authorization": "Bearer nope"}) as resp:
        assert resp.status == 401
    async with http.post(
        proxy.admin_url + "/admin/reload", headers={"Authorization": "Bearer s3cret"}
    ) as resp:
        assert resp.status == 200
    assert proxy.app.generation == 2


async def test_admin_mutations_disabled_without_token(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"a": [up.url]}))
    async with http.post(proxy.admin_url + "/admin/reload") as resp:
        assert resp.status == 403


async def test_nothing_dropped_while_reloading_under_load(upstreams, proxies, http):
    a, b = await upstreams(name="a"), await upstreams(name="b")
    a.stream_gap = b.stream_gap = 0.002
    config = proxy_config({"a": [a.url], "b": [b.url]}, routing={"defaultBackend": "a"})
    proxy = await proxies(config)
    from inferlane.config.load import parse_config

    statuses: list[int] = []
    stop = asyncio.Event()

    async def client(stream: bool) -> None:
        while not stop.is_set():
            body = {**CHAT, "stream": stream}
            async with http.post(
                proxy.url + "/v1/chat/completions",
                json=body,
                headers={"x-test": "stream=20"} if stream else {},
            ) as resp:
                data = await resp.read()
                statuses.append(resp.status)
                if stream:
                    assert data.endswith(b"data: [DONE]\n\n")

    clients = [asyncio.ensure_future(client(i % 2 == 0)) for i in range(8)]
    for i in range(10):
        config["routing"]["defaultBackend"] = "ab"[i % 2]
        config["server"]["maxBodySize"] = f"{10 + i}Mi"
        assert await proxy.app.reload(parse_config(yaml.safe_dump(config)))
        await asyncio.sleep(0.03)
    stop.set()
    await asyncio.gather(*clients)
    assert len(statuses) > 50
    assert set(statuses) == {200}
    assert a.requests and b.requests
