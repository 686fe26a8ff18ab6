"""Bad client input gets a clear OpenAI-style error with the right status and never reaches upstream."""

from __future__ import annotations

from support.proxy import proxy_config


async def _error(resp):
    body = await resp.json()
    assert set(body["error"]) == {"message", "type", "code"}
    return body["error"]


async def test_malformed_json_is_400(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    async with http.post(
        proxy.url + "/v1/chat/completions",
        data=b'{"model": "m",',
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        assert "invalid JSON" in (await _error(resp))["message"]
    assert up.requests == []


async def test_missing_model_is_400(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    async with http.post(proxy.url + "/v1/chat/completions", json={"messages": []}) as resp:
        assert resp.status == 400
        error = await _error(resp)
        assert error["message"] == "you must provide a model parameter"
        assert error["code"] == "missing_model"


async def test_body_over_limit_is_413_naming_the_limit(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}, server={"maxBodySize": "1Ki"}))
    async with http.post(proxy.url + "/v1/completions", json={"model": "m", "prompt": "x" * 5000}) as resp:
        assert resp.status == 413
        message = (await _error(resp))["message"]
        assert "request body too large" in message
        assert "1024 bytes" in message
    assert up.requests == []
    async with http.post(proxy.url + "/v1/completions", json={"model": "m", "prompt": "ok"}) as resp:
        assert resp.status == 200


async def test_chunked_body_over_limit_is_413(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}, server={"maxBodySize": "1Ki"}))

    async def chunks():
        for _ in range(10):
            yield b"x" * 500

    async with http.post(proxy.url + "/upload", data=chunks()) as resp:
        assert resp.status == 413
    assert up.requests == []


async def test_oversized_headers_are_rejected(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}, server={"maxHeaderSize": "1Ki"}))
    async with http.get(proxy.url + "/v1/models", headers={"X-Big": "a" * 4000}) as resp:
        assert resp.status in (400, 431)
    assert up.requests == []


async def test_large_prompt_is_forwarded_intact(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"chat": [up.url]}))
    prompt = "word " * 44_000  # ~220 KB
    async with http.post(proxy.url + "/v1/completions", json={"model": "m", "prompt": prompt}) as resp:
        assert resp.status == 200
        assert (await resp.json())["bytes"] == len(up.requests[-1].body) > 220_000
