"""Fallback models: on 5xx, on a context-length error (simulator), in order, with the answer labelled."""

from __future__ import annotations

import json

from support.proxy import proxy_config

FAST_RETRY = {"attempts": 1, "backoff": {"baseInterval": "1ms", "maxInterval": "2ms"}}


def _models(*fallbacks, primary="primary"):
    return [
        {"name": "chat", "versions": [{"version": "1", "backend": primary}], "fallbacks": list(fallbacks)},
        {"name": "chat-backup", "versions": [{"version": "b1", "backend": "backup"}]},
    ]


async def _chat(http, proxy, model="chat", **body):
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
        return resp.status, resp.headers, await resp.read()


async def _metric(http, proxy, name):
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    return [line for line in text.splitlines() if line.startswith(name + "{")]


async def test_a_5xx_model_falls_back_and_the_response_says_who_answered(upstreams, proxies, http) -> None:
    primary = await upstreams(name="primary", default="status=503")
    backup = await upstreams(name="backup")
    urls = {"primary": [primary.url], "backup": [backup.url]}
    proxy = await proxies(proxy_config(urls, models=_models({"model": "chat-backup"}), retry=FAST_RETRY))
    status, headers, body = await _chat(http, proxy)
    assert status == 200 and json.loads(body)["upstream"] == "backup"
    assert headers["x-inferlane-model"] == "chat-backup"
    assert headers["x-inferlane-version"] == "b1"
    assert headers["x-inferlane-fallback-from"] == "chat"
    assert len(primary.requests) == 2  # its own retry came first
    assert json.loads(backup.requests[-1].body)["model"] == "chat-backup"
    (line,) = await _metric(http, proxy, "inferlane_fallbacks_total")
    assert 'model="chat"' in line and 'fallback="chat-backup"' in line and 'reason="5xx"' in line


async def test_a_client_error_is_not_a_reason_to_fall_back(upstreams, proxies, http) -> None:
    primary = await upstreams(name="primary", default="status=400")
    backup = await upstreams(name="backup")
    urls = {"primary": [primary.url], "backup": [backup.url]}
    proxy = await proxies(proxy_config(urls, models=_models({"model": "chat-backup"}), retry=FAST_RETRY))
    status, headers, _ = await _chat(http, proxy)
    assert status == 400 and headers["x-inferlane-model"] == "chat" and not backup.requests


async def test_when_every_fallback_fails_the_last_answer_is_returned(upstreams, proxies, http) -> None:
    primary = await upstreams(name="primary", default="status=500")
    backup = await upstreams(name="backup", default="status=503")
    urls = {"primary": [primary.url], "backup": [backup.url]}
    retry = {**FAST_RETRY, "attempts": 0}
    proxy = await proxies(proxy_config(urls, models=_models({"model": "chat-backup"}), retry=retry))
    status, headers, _ = await _chat(http, proxy)
    assert status == 503 and headers["x-inferlane-fallback-from"] == "chat"
    assert len(primary.requests) == 1 and len(backup.requests) == 1


async def test_an_unreachable_model_falls_back(upstreams, proxies, http) -> None:
    backup = await upstreams(name="backup")
    urls = {"primary": ["http://127.0.0.1:9"], "backup": [backup.url]}
    proxy = await proxies(proxy_config(urls, models=_models({"model": "chat-backup"}), retry=FAST_RETRY))
    status, headers, _ = await _chat(http, proxy)
    assert status == 200 and headers["x-inferlane-model"] == "chat-backup"


async def test_context_length_error_moves_to_the_larger_context_model(sim, proxies, http) -> None:
    small = await sim("qwen2.5-7b-instruct", engine={"maxModelLen": 128})
    large = await sim("qwen2.5-72b-instruct", engine={"maxModelLen": 32768})
    models = [
        {
            "name": "qwen2.5-7b-instruct",
            "versions": [{"version": "1", "backend": "small"}],
            "fallbacks": [
                {"model": "qwen2.5-32b-instruct"},  # 5xx etc. only: skipped for a context-length error
                {"model": "qwen2.5-72b-instruct", "on": ["context-length"]},
            ],
        },
        {"name": "qwen2.5-32b-instruct", "versions": [{"version": "1", "backend": "small"}]},
        {"name": "qwen2.5-72b-instruct", "versions": [{"version": "1", "backend": "large"}]},
    ]
    proxy = await proxies(proxy_config({"small": small, "large": large}, models=models))
    long_prompt = "tell me about the sea " * 100
    payload = {
        "model": "qwen2.5-7b-instruct",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": long_prompt}],
    }
    async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        assert resp.headers["x-inferlane-model"] == "qwen2.5-72b-instruct"
        assert resp.headers["x-inferlane-fallback-from"] == "qwen2.5-7b-instruct"
    assert body["model"] == "qwen2.5-72b-instruct"
    payload["messages"][0]["content"] = "short"
    async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
        assert resp.status == 200 and "x-inferlane-fallback-from" not in resp.headers
        assert (await resp.json())["model"] == "qwen2.5-7b-instruct"
    (line,) = await _metric(http, proxy, "inferlane_fallbacks_total")
    assert 'reason="context-length"' in line and line.endswith(" 1.0")


async def test_a_streaming_request_falls_back_before_its_first_byte(sim, proxies, http) -> None:
    broken = await sim("qwen2.5-7b-instruct", faults={"errorRate": 1.0, "errorStatuses": [503]})
    good = await sim("qwen2.5-72b-instruct")
    models = [
        {
            "name": "qwen2.5-7b-instruct",
            "versions": [{"version": "1", "backend": "broken"}],
            "fallbacks": [{"model": "qwen2.5-72b-instruct"}],
        },
        {"name": "qwen2.5-72b-instruct", "versions": [{"version": "1", "backend": "good"}]},
    ]
    proxy = await proxies(proxy_config({"broken": broken, "good": good}, models=models, retry=FAST_RETRY))
    payload = {
        "model": "qwen2.5-7b-instruct",
        "stream": True,
        "max_tokens": 4,
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with http.post(proxy.url + "/v1/chat/completions", json=payload) as resp:
        assert resp.status == 200
        assert resp.headers["x-inferlane-model"] == "qwen2.5-72b-instruct"
        text = await resp.text()
    assert text.rstrip().endswith("data: [DONE]") and '"model":"qwen2.5-72b-instruct"' in text


async def test_timeout_breaker_open_and_429_each_fall_back(upstreams, proxies, http) -> None:
    slow = await upstreams(name="slow", default="hang")
    limited = await upstreams(name="limited", default="status=429")
    backup = await upstreams(name="backup")
    urls = {"slow": [slow.url], "limited": [limited.url], "backup": [backup.url]}
    models = [
        *_models({"model": "chat-backup"}, primary="slow"),
        {
            "name": "rate-limited",
            "versions": [{"version": "1", "backend": "limited"}],
            "fallbacks": [{"model": "chat-backup"}],
        },
    ]
    config = proxy_config(urls, models=models, retry={**FAST_RETRY, "attempts": 0})
    config["backends"][0]["timeouts"] = {"firstByte": "50ms"}
    config["circuitBreaker"] = {"failureThreshold": 1, "recoveryTimeout": "1h"}
    proxy = await proxies(config)
    for _ in range(2):  # first a first-byte timeout, then the slow backend's breaker is open
        status, headers, _ = await _chat(http, proxy)
        assert status == 200 and headers["x-inferlane-model"] == "chat-backup"
    status, headers, _ = await _chat(http, proxy, model="rate-limited")
    assert status == 200 and headers["x-inferlane-fallback-from"] == "rate-limited"
    reasons = {
        line.split('reason="')[1].split('"')[0]
        for line in await _metric(http, proxy, "inferlane_fallbacks_total")
    }
    assert reasons == {"timeout", "circuit-open", "429"}
    assert len(slow.requests) == 1
