"""The proxy forwards requests and responses faithfully over real loopback HTTP."""

from __future__ import annotations

import json

import aiohttp

from support.proxy import proxy_config

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_body_forwarded_byte_for_byte_and_headers_rewritten(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    raw = b'{"model":  "m", "messages": [ {"role":"user","content":"h\\u00e9"} ], "zz": 1.50}'
    headers = {
        "Content-Type": "application/json",
        "X-Request-Id": "req-123",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "X-Forwarded-For": "10.1.2.3",
        "Connection": "keep-alive, X-Hop",
        "X-Hop": "secret-hop",
        "Keep-Alive": "timeout=5",
    }
    async with http.post(proxy.url + "/v1/chat/completions?x=1&y=%20", data=raw, headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"] == "req-123"
        assert (await resp.json())["upstream"] == "up"
    seen = up.requests[-1]
    assert seen.body == raw
    assert seen.path == "/v1/chat/completions?x=1&y=%20"
    assert seen.headers["X-Request-Id"] == "req-123"
    assert seen.headers["traceparent"] == headers["traceparent"]
    assert seen.headers["X-Forwarded-For"] == "10.1.2.3, 127.0.0.1"
    assert "X-Hop" not in seen.headers
    assert "Keep-Alive" not in seen.headers


async def test_request_id_generated_when_absent_and_logged(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    async with http.post(proxy.url + "/v1/embeddings", json={"model": "e", "input": "x"}) as resp:
        assert resp.status == 200
        request_id = resp.headers["X-Request-Id"]
    assert len(request_id) == 32
    assert up.requests[-1].headers["X-Request-Id"] == request_id
    line = json.loads(proxy.access_lines()[-1])
    assert line["request_id"] == request_id
    assert line["status"] == 200
    assert line["backend"] == "chat"
    assert "input" not in json.dumps(line)


async def test_any_other_path_passes_through(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    async with http.get(proxy.url + "/v1/models") as resp:
        assert resp.status == 200
    async with http.put(proxy.url + "/custom/thing", data=b"\x00\x01 not json") as resp:
        assert resp.status == 200
    assert up.requests[-1].body == b"\x00\x01 not json"
    assert up.requests[-1].method == "PUT"


async def test_upstream_error_status_and_body_pass_through(upstreams, proxies, http):
    up = await upstreams(default="status=422")
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
        assert resp.status == 422
        assert (await resp.json())["error"]["message"] == "upstream says 422"


async def test_routes_send_paths_to_their_backends(upstreams, proxies, http):
    chat, embed = await upstreams(name="chat"), await upstreams(name="embed")
    config = proxy_config(
        {"chat": [chat.url], "embed": [embed.url]},
        routing={
            "defaultBackend": "chat",
            "endpoints": [{"path": "/v1/embeddings", "model": "embedding", "backend": "embed"}],
        },
    )
    proxy = await proxies(config)
    async with http.post(proxy.url + "/v1/embeddings", json={"model": "e", "input": "x"}) as resp:
        assert (await resp.json())["upstream"] == "embed"
    async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
        assert (await resp.json())["upstream"] == "chat"


async def test_health_and_ready_answer_on_both_ports(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    for base in (proxy.url, proxy.admin_url):
        for path in ("/health", "/ready"):
            async with http.get(base + path) as resp:
                assert resp.status == 200, (base, path)
    assert up.requests == []


async def test_metrics_count_requests(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    for _ in range(3):
        async with http.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
            await resp.read()
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    assert (
        'inferlane_requests_total{backend="chat",error_kind="none",route="default",status="200"} 3.0' in text
    )
    assert "inferlane_endpoint_in_flight_requests" in text


async def test_keepalive_connections_are_reused_upstream(upstreams, proxies):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):
            async with session.post(proxy.url + "/v1/chat/completions", json=CHAT) as resp:
                assert resp.status == 200
    assert len(up.requests) == 20
