"""Misbehaving upstreams produce distinct, clear errors and never take the proxy down."""

from __future__ import annotations

import logging
import socket

import aiohttp

from support.proxy import proxy_config

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
NO_RETRY = {"attempts": 0}


def refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


async def _post(http, url, **kw):
    async with http.post(url + "/v1/chat/completions", json=CHAT, **kw) as resp:
        return resp.status, await resp.json()


async def test_refused_connection_is_502_naming_the_backend(proxies, http):
    proxy = await proxies(proxy_config({"llm": [refused_url()]}, retry=NO_RETRY))
    status, body = await _post(http, proxy.url)
    assert status == 502
    message = body["error"]["message"]
    assert message.startswith("upstream connect error or disconnect/reset before headers")
    assert "'llm'" in message


async def test_hang_before_headers_is_504_first_byte_timeout(upstreams, proxies, http):
    up = await upstreams(default="hang")
    backend = {"name": "llm", "endpoints": [up.url], "timeouts": {"firstByte": "200ms"}}
    config = proxy_config({}, retry=NO_RETRY, backends=[backend])
    proxy = await proxies(config)
    status, body = await _post(http, proxy.url)
    assert status == 504
    assert body["error"]["code"] == "upstream_first_byte_timeout"


async def test_total_timeout_is_504_request_timeout(upstreams, proxies, http):
    up = await upstreams(default="hang")
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry=NO_RETRY, server={"writeTimeout": "300ms"}))
    status, body = await _post(http, proxy.url)
    assert status == 504
    assert body["error"]["code"] == "request_timeout"


async def test_reset_before_headers_is_502(upstreams, proxies, http):
    up = await upstreams(default="reset")
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry=NO_RETRY))
    status, body = await _post(http, proxy.url)
    assert status == 502
    assert "disconnect/reset before headers" in body["error"]["message"]


async def test_lying_content_length_is_502(upstreams, proxies, http):
    up = await upstreams(default="lie")
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry=NO_RETRY))
    status, body = await _post(http, proxy.url)
    assert status == 502
    assert body["error"]["code"] == "upstream_protocol_error"


async def test_reset_mid_stream_ends_with_sse_error_event(upstreams, proxies, http):
    up = await upstreams(default="reset-mid-stream=3")
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    async with http.post(proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True}) as resp:
        assert resp.status == 200
        text = (await resp.read()).decode()
    assert text.count("chat.completion.chunk") == 3
    assert '"error"' in text and "disconnected mid-stream" in text
    assert text.endswith("data: [DONE]\n\n")
    assert len(up.requests) == 1, "never retried after the first byte went to the client"


async def test_stall_mid_stream_hits_idle_timeout(upstreams, proxies, http):
    up = await upstreams(default="stall-mid-stream=2")
    backend = {"name": "llm", "endpoints": [up.url], "timeouts": {"idle": "200ms"}}
    proxy = await proxies(proxy_config({}, backends=[backend]))
    async with http.post(proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True}) as resp:
        text = (await resp.read()).decode()
    assert "upstream_idle_timeout" in text
    assert text.endswith("data: [DONE]\n\n")


async def test_proxy_survives_a_storm_of_failures(upstreams, proxies, http):
    bad = await upstreams(default="reset")
    good = await upstreams(name="good")
    proxy = await proxies(
        proxy_config({"bad": [bad.url], "good": [good.url]}, routing={"defaultBackend": "bad"})
    )
    for _ in range(30):
        status, _ = await _post(http, proxy.url)
        assert status in (502, 503)
    config = proxy_config({"bad": [bad.url], "good": [good.url]}, routing={"defaultBackend": "good"})
    import yaml

    from inferlane.config.load import parse_config

    assert await proxy.app.reload(parse_config(yaml.safe_dump(config)))
    status, body = await _post(http, proxy.url)
    assert status == 200 and body["upstream"] == "good"


async def test_pool_full_is_fast_503_with_reason(upstreams, proxies, http):
    up = await upstreams(default="slow=0.5")
    pool = {"maxConnections": 1, "maxPendingRequests": 0}
    backend = {"name": "llm", "endpoints": [up.url], "connectionPool": pool}
    proxy = await proxies(proxy_config({}, backends=[backend], retry=NO_RETRY))
    import asyncio

    slow = asyncio.ensure_future(_post(http, proxy.url))
    while not up.requests:
        await asyncio.sleep(0.005)
    status, body = await _post(http, proxy.url)
    assert status == 503
    assert "pool full" in body["error"]["message"]
    assert (await slow)[0] == 200


async def test_listener_concurrency_limit_gives_503(upstreams, proxies, http):
    up = await upstreams(default="slow=0.5")
    proxy = await proxies(proxy_config({"llm": [up.url]}, server={"maxConcurrentRequests": 1}))
    import asyncio

    slow = asyncio.ensure_future(_post(http, proxy.url))
    while not up.requests:
        await asyncio.sleep(0.005)
    status, body = await _post(http, proxy.url)
    assert status == 503 and body["error"]["code"] == "overloaded"
    assert (await slow)[0] == 200


async def test_client_hangup_mid_stream_cancels_upstream(upstreams, proxies, caplog):
    up = await upstreams(default="stream=1000")
    up.stream_gap = 0.01
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    import asyncio

    async with aiohttp.ClientSession() as session:
        resp = await session.post(proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True})
        await resp.content.readline()
        resp.close()
    await asyncio.wait_for(up.disconnected.wait(), timeout=10)
    for _ in range(100):
        if any('"status":499' in line for line in proxy.access_lines()):
            break
        await asyncio.sleep(0.01)
    assert any('"error_kind":"client_disconnect"' in line for line in proxy.access_lines())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a hang-up is not an error"


async def test_backend_total_timeout_bounds_the_request(upstreams, proxies, http):
    up = await upstreams(default="hang")
    backend = {"name": "llm", "endpoints": [up.url], "timeouts": {"total": "200ms"}}
    proxy = await proxies(proxy_config({}, retry=NO_RETRY, backends=[backend]))
    status, body = await _post(http, proxy.url)
    assert status == 504
    assert body["error"]["code"] == "request_timeout"


async def test_connect_timeout_is_504_naming_the_endpoint(proxies, http):
    # a listener whose accept queue is full: further SYNs are dropped, so connecting hangs
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        fillers.append(client)
    try:
        backend = {"name": "llm", "endpoints": [f"http://127.0.0.1:{port}"], "timeouts": {"connect": "200ms"}}
        proxy = await proxies(proxy_config({}, retry=NO_RETRY, backends=[backend]))
        status, body = await _post(http, proxy.url)
        assert status == 504
        assert body["error"]["code"] == "upstream_connect_timeout"
        assert f"127.0.0.1:{port}" in body["error"]["message"]
    finally:
        for client in fillers:
            client.close()
        server.close()
