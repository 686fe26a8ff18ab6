"""Retries, circuit breaking, outlier ejection and health checks against real loopback upstreams."""

from __future__ import annotations

import asyncio

from support.proxy import proxy_config

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
FAST_BACKOFF = {"baseInterval": "1ms", "maxInterval": "2ms"}


async def _post(http, url, **kw):
    async with http.post(url + "/v1/chat/completions", json=CHAT, **kw) as resp:
        return resp.status, await resp.json()


async def test_retry_goes_to_a_different_endpoint(upstreams, proxies, http):
    bad, good = await upstreams(name="bad", default="status=503"), await upstreams(name="good")
    proxy = await proxies(proxy_config({"llm": [bad.url, good.url]}, retry={"backoff": FAST_BACKOFF}))
    for _ in range(10):
        status, body = await _post(http, proxy.url)
        assert status == 200 and body["upstream"] == "good"
    assert len(bad.requests) <= 10


async def test_gateway_errors_are_retried_and_4xx_are_not(upstreams, proxies, http):
    up = await upstreams()
    up.script = ["status=502", "status=502", "ok"]
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry={"attempts": 2, "backoff": FAST_BACKOFF}))
    status, _ = await _post(http, proxy.url)
    assert status == 200 and len(up.requests) == 3
    up.script = ["status=400", "ok"]
    status, _ = await _post(http, proxy.url)
    assert status == 400 and len(up.requests) == 4


async def test_attempts_exhausted_passes_the_last_upstream_error_through(upstreams, proxies, http):
    up = await upstreams(default="status=503")
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry={"attempts": 2, "backoff": FAST_BACKOFF}))
    status, body = await _post(http, proxy.url)
    assert status == 503 and body["error"]["message"] == "upstream says 503"
    assert len(up.requests) == 3


async def test_retry_after_longer_than_the_deadline_is_not_waited_for(upstreams, proxies, http):
    up = await upstreams(default="retry-after=3600")
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    status, _ = await _post(http, proxy.url)
    assert status == 503 and len(up.requests) == 1


async def test_retry_budget_limits_retries_under_a_sick_fleet(upstreams, proxies, http):
    up = await upstreams(default="status=503")
    retry = {"attempts": 3, "backoff": FAST_BACKOFF, "budget": {"retryRatio": 0.1, "minRetriesPerSecond": 0}}
    proxy = await proxies(proxy_config({"llm": [up.url]}, retry=retry, circuitBreaker={"enabled": False}))
    for _ in range(50):
        await _post(http, proxy.url)
    retries = len(up.requests) - 50
    assert 0 < retries <= 6


async def test_breaker_opens_after_threshold_and_fails_fast(upstreams, proxies, http):
    up = await upstreams(default="status=500")
    proxy = await proxies(
        proxy_config(
            {"llm": [up.url]},
            retry={"attempts": 0},
            circuitBreaker={"failureThreshold": 5, "recoveryTimeout": "60s"},
            backends=[{"name": "llm", "endpoints": [up.url], "outlierDetection": {"enabled": False}}],
        )
    )
    for _ in range(5):
        assert (await _post(http, proxy.url))[0] == 500
    status, body = await _post(http, proxy.url)
    assert status == 503
    assert body["error"]["message"].startswith("circuit breaker open")
    assert "'llm'" in body["error"]["message"]
    assert len(up.requests) == 5
    async with http.get(proxy.admin_url + "/metrics") as resp:
        assert 'inferlane_circuit_breaker_state{backend="llm"' in await resp.text()


async def test_breaker_half_open_probe_closes_it_again(upstreams, proxies, http):
    up = await upstreams(default="status=500")
    breaker = {"failureThreshold": 2, "recoveryTimeout": "50ms", "halfOpenRequests": 1}
    backend = {"name": "llm", "endpoints": [up.url], "outlierDetection": {"enabled": False}}
    proxy = await proxies(proxy_config({}, retry={"attempts": 0}, circuitBreaker=breaker, backends=[backend]))
    for _ in range(2):
        await _post(http, proxy.url)
    assert (await _post(http, proxy.url))[0] == 503
    up.default = "ok"
    for _ in range(200):
        status, _ = await _post(http, proxy.url)
        if status == 200:
            break
        await asyncio.sleep(0.01)
    assert status == 200
    assert (await _post(http, proxy.url))[0] == 200


async def test_outlier_detection_ejects_a_failing_endpoint(upstreams, proxies, http):
    bad, good = await upstreams(name="bad", default="status=500"), await upstreams(name="good")
    backend = {
        "name": "llm",
        "endpoints": [bad.url, good.url],
        "outlierDetection": {"consecutive5xx": 3, "baseEjectionTime": "60s"},
    }
    proxy = await proxies(proxy_config({}, retry={"attempts": 0}, backends=[backend]))
    for _ in range(40):
        await _post(http, proxy.url)
    assert len(bad.requests) == 3
    async with http.get(proxy.admin_url + "/admin/state") as resp:
        state = await resp.json()
    ejected = {e["endpoint"]: e["ejected"] for e in state["backends"]["llm"]}
    assert ejected[f"127.0.0.1:{bad.port}"] is True
    assert ejected[f"127.0.0.1:{good.port}"] is False


async def test_health_checks_gate_readiness_and_traffic(upstreams, proxies, http):
    sick, well = await upstreams(name="sick", default="status=503"), await upstreams(name="well")
    backend = {"name": "llm", "endpoints": [sick.url, well.url]}
    config = proxy_config({}, backends=[backend], retry={"attempts": 0})
    config["healthCheck"] = {"interval": "50ms", "timeout": "1s", "unhealthyThreshold": 1}
    proxy = await proxies(config)
    for _ in range(200):
        async with http.get(proxy.url + "/ready") as resp:
            if resp.status == 200:
                break
        await asyncio.sleep(0.01)
    assert resp.status == 200
    for _ in range(20):
        status, body = await _post(http, proxy.url)
        assert status == 200 and body["upstream"] == "well"
    assert all(r.path == "/health" for r in sick.requests)


async def test_not_ready_while_every_endpoint_fails_health(upstreams, proxies, http):
    sick = await upstreams(default="status=503")
    config = proxy_config({"llm": [sick.url]})
    config["healthCheck"] = {"interval": "20ms", "unhealthyThreshold": 1}
    proxy = await proxies(config)
    while not any(r.path == "/health" for r in sick.requests):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    async with http.get(proxy.admin_url + "/ready") as resp:
        assert resp.status == 503
    status, body = await _post(http, proxy.url)
    assert status == 503 and body["error"]["code"] == "no_healthy_upstream"


async def test_per_try_timeout_moves_the_request_to_another_endpoint(upstreams, proxies, http):
    slow, fast = await upstreams(name="slow", default="hang"), await upstreams(name="fast")
    retry = {
        "attempts": 1,
        "perTryTimeout": "200ms",
        "retryOn": "timeout,connect-failure",
        "backoff": FAST_BACKOFF,
    }
    proxy = await proxies(proxy_config({"llm": [slow.url, fast.url]}, retry=retry))
    for _ in range(4):
        status, body = await _post(http, proxy.url)
        assert status == 200 and body["upstream"] == "fast"


async def test_short_retry_after_is_honoured_then_retried(upstreams, proxies, http):
    up = await upstreams()
    up.script = ["retry-after=0", "ok"]
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    status, _ = await _post(http, proxy.url)
    assert status == 200 and len(up.requests) == 2
    async with http.get(proxy.admin_url + "/metrics") as resp:
        assert 'inferlane_retries_total{backend="llm",reason="503",route="default"} 1.0' in await resp.text()
