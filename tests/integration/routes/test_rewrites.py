"""Per-route rewrites as the upstream sees them: path, headers, model; untouched bytes otherwise."""

from __future__ import annotations

import orjson

from support.proxy import proxy_config


async def test_path_headers_and_model_rewrites(upstreams, proxies, http):
    chat, embed = await upstreams(name="chat"), await upstreams(name="embed")
    routes = [
        {"path": "/v1/embeddings", "backend": "embed", "name": "embeddings"},
        {
            "name": "legacy",
            "pathPrefix": "/legacy/",
            "methods": ["POST"],
            "headers": {"x-team": {"prefix": "ml-"}},
            "rewrite": {
                "pathPrefix": "/v1/",
                "model": "qwen2.5-7b-instruct",
                "requestHeaders": {
                    "add": {"x-via": "inferlane"},
                    "set": {"x-team": "ml"},
                    "remove": ["x-secret"],
                },
            },
        },
        {"name": "pinned", "path": "/v1/completions", "rewrite": {"path": "/v1/chat/completions"}},
    ]
    proxy = await proxies(
        proxy_config(
            {"chat": [chat.url], "embed": [embed.url]},
            routing={"endpoints": routes, "defaultBackend": "chat"},
        )
    )

    headers = {"x-team": "ml-research", "x-secret": "s", "x-via": "client"}
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}]}
    async with http.post(proxy.url + "/legacy/chat/completions?trace=1", json=body, headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["x-inferlane-route"] == "legacy"
    seen = chat.requests[-1]
    assert seen.path == "/v1/chat/completions?trace=1"
    assert seen.headers.getall("x-via") == ["client", "inferlane"]
    assert seen.headers.getall("x-team") == ["ml"]
    assert "x-secret" not in seen.headers
    assert orjson.loads(seen.body) == {**body, "model": "qwen2.5-7b-instruct"}

    # same model already: the original bytes go through untouched; the header condition is not met for GET
    raw = b'{"model":  "qwen2.5-7b-instruct", "prompt": "x"}'
    async with http.post(
        proxy.url + "/legacy/completions",
        data=raw,
        headers={"x-team": "ml-a", "content-type": "application/json"},
    ) as resp:
        assert resp.status == 200
    assert chat.requests[-1].body == raw
    async with http.get(proxy.url + "/legacy/models", headers={"x-team": "ml-a"}) as resp:
        assert resp.headers["x-inferlane-route"] == "default"
    assert chat.requests[-1].path == "/legacy/models"

    async with http.post(proxy.url + "/v1/completions", json={"model": "m", "prompt": "p"}) as resp:
        assert resp.headers["x-inferlane-route"] == "pinned"
    assert chat.requests[-1].path == "/v1/chat/completions"

    async with http.post(proxy.url + "/v1/embeddings", json={"model": "e", "input": "x"}) as resp:
        assert (await resp.json())["upstream"] == "embed"
    assert len(embed.requests) == 1
