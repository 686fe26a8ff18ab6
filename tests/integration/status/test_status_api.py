"""``GET /admin/status`` and the page at ``/`` on the admin port, against a real proxy and upstream."""

from __future__ import annotations

import json

from support.proxy import proxy_config


async def test_status_reports_endpoints_routes_splits_and_recent_errors(upstreams, proxies, http) -> None:
    up = await upstreams()
    config = proxy_config(
        {"chat": [up.url]},
        routing={"endpoints": [{"name": "chat", "path": "/v1/chat/completions", "backend": "chat"}]},
    )
    proxy = await proxies(config)
    secret = "my secret prompt"
    for behaviour in ("ok", "ok", "ok", "status=500"):
        body = {"model": "m", "messages": [{"role": "user", "content": secret}]}
        async with http.post(
            proxy.url + "/v1/chat/completions", json=body, headers={"x-test": behaviour}
        ) as response:
            await response.read()
    proxy.app.overrides.set("m", {"v1": 90, "v2": 10})

    async with http.get(proxy.admin_url + "/admin/status") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        raw = await response.text()
    status = json.loads(raw)
    assert secret not in raw
    assert status["ready"] is True and status["generation"] == 1
    assert status["traffic"]["total_requests"] == 4
    assert status["traffic"]["total_errors"] == 1  # the upstream's 500 (not retried)
    assert len(status["traffic"]["samples"]) == 119
    (endpoint,) = status["backends"]["chat"]
    assert endpoint["endpoint"] == up.url.removeprefix("http://")
    assert endpoint["healthy"] is True and endpoint["breaker"] == "closed" and endpoint["requests"] == 4
    assert {"name": "chat", "match": "/v1/chat/completions", "models": [], "backend": "chat",
            "batching": False} in status["routes"]  # fmt: skip
    assert status["splits"] == [{"model": "m", "weights": {"v1": 90, "v2": 10}, "source": "live"}]
    (error,) = status["errors"]
    assert error["status"] == 500 and error["route"] == "chat" and error["backend"] == "chat"
    assert error["endpoint"] == endpoint["endpoint"] and error["model"] == "m" and error["request_id"]
    assert status["rollouts"] is None and status["batching"] is None


async def test_page_is_self_contained_html(proxies, http) -> None:
    proxy = await proxies(proxy_config({"b": ["http://127.0.0.1:9"]}))
    async with http.get(proxy.admin_url + "/") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    assert "/admin/status" in page
    assert "<script src" not in page and '<link rel="stylesheet"' not in page and "https://" not in page


async def test_status_needs_no_token_and_changes_nothing(proxies, http) -> None:
    config = proxy_config({"b": ["http://127.0.0.1:9"]}, admin={"token": "t0k3n"})
    proxy = await proxies(config)
    async with http.get(proxy.admin_url + "/admin/status") as response:
        assert response.status == 200
        assert "t0k3n" not in await response.text()
    async with http.post(proxy.admin_url + "/admin/status") as response:
        assert response.status == 405


async def test_a_stream_broken_mid_way_shows_as_an_error(upstreams, proxies, http) -> None:
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with http.post(
        proxy.url + "/v1/chat/completions", json=body, headers={"x-test": "reset-mid-stream=2"}
    ) as response:
        assert response.status == 200
        await response.read()
    async with http.get(proxy.admin_url + "/admin/status") as response:
        status = await response.json()
    assert status["traffic"]["total_errors"] == 1
    (error,) = status["errors"]
    assert error["status"] == 200 and error["error_kind"] not in ("", "none")
