"""Every fault kind does what it says (fault durations are wall-clock; tests use client timeouts, never
assertions on elapsed time)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sim_probe import FleetFactory, chat_body

from inferlane.sim import FleetSpec

SHORT = aiohttp.ClientTimeout(total=0.5)


async def url_of(fleet_factory: FleetFactory, **model: object) -> str:
    spec = FleetSpec.from_dict({"timeScale": 0.001, "models": [{"name": "m", **model}]})
    return (await fleet_factory(spec)).replicas[0].url


async def post(client: aiohttp.ClientSession, url: str, fault: str, **body: object) -> aiohttp.ClientResponse:
    return await client.post(
        url + "/v1/chat/completions", json=chat_body(**body), headers={"x-sim-fault": fault}
    )


async def test_status_oom_and_bad_header(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await url_of(fleet_factory)
    async with await post(client, url, "status=503") as r:
        error = (await r.json())["error"]
        assert r.status == 503 and error["code"] == 503 and error["param"] is None
    async with await post(client, url, "oom") as r:
        assert r.status == 500 and "CUDA out of memory" in (await r.json())["error"]["message"]
    async with await post(client, url, "explode") as r:
        assert r.status == 400 and "x-sim-fault" in (await r.json())["error"]["message"]


async def test_admin_api_sets_rates_and_clears(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = await url_of(fleet_factory)
    async with client.post(url + "/sim/faults", json={"errorRate": 1.0, "errorStatuses": [429]}) as r:
        assert r.status == 200 and (await r.json())["errorRate"] == 1.0
    async with client.post(url + "/v1/chat/completions", json=chat_body()) as r:
        assert r.status == 429
    async with client.get(url + "/sim/faults") as r:
        assert (await r.json())["errorStatuses"] == [429]
    async with client.post(url + "/sim/faults", json={"errorRate": 3}) as r:
        assert r.status == 400 and "errorRate" in (await r.json())["error"]["message"]
    async with client.delete(url + "/sim/faults") as r:
        assert (await r.json())["errorRate"] == 0.0
    async with client.post(url + "/v1/chat/completions", json=chat_body()) as r:
        assert r.status == 200


async def test_python_side_fault_control(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    spec = FleetSpec.quick("m", time_scale=0, preset="zero")
    replica = (await fleet_factory(spec)).replicas[0]
    replica.faults.set(error_rate=1.0, error_statuses=[502])
    async with client.post(replica.url + "/v1/chat/completions", json=chat_body()) as r:
        assert r.status == 502


@pytest.mark.parametrize("fault", ["latency=5s", "hang=5s"])
async def test_latency_and_hang_outlast_a_short_client_timeout(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession, fault: str
) -> None:
    url = await url_of(fleet_factory)
    with pytest.raises(TimeoutError):
        async with client.post(
            url + "/v1/chat/completions", json=chat_body(), headers={"x-sim-fault": fault}, timeout=SHORT
        ):
            pass
    async with client.post(url + "/v1/chat/completions", json=chat_body(), timeout=SHORT) as r:
        assert r.status == 200


async def test_reset_before_headers(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await url_of(fleet_factory)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with await post(client, url, "reset") as r:
            await r.read()


async def read_stream(response: aiohttp.ClientResponse, timeout: float = 0.5) -> tuple[list[bytes], str]:
    """Lines of ``data:`` received before the stream ended, broke or stalled."""
    lines: list[bytes] = []
    try:
        while True:
            line = await asyncio.wait_for(response.content.readline(), timeout)
            if not line:
                return lines, "eof"
            if line.startswith(b"data:"):
                lines.append(line)
    except TimeoutError:
        return lines, "stalled"
    except aiohttp.ClientPayloadError:
        return lines, "broken"


async def test_reset_mid_stream(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await url_of(fleet_factory)
    async with await post(client, url, "reset-mid-stream, after=3", stream=True, max_tokens=50) as r:
        assert r.status == 200
        lines, how = await read_stream(r)
    assert how == "broken" and 2 <= len(lines) <= 1 + 3  # role chunk + up to 3 tokens, never [DONE]
    with pytest.raises(aiohttp.ClientPayloadError):
        async with await post(client, url, "reset-mid-stream", max_tokens=50) as r:
            await r.read()


async def test_stall_mid_stream_and_slow_ttft(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = await url_of(fleet_factory)
    async with await post(client, url, "stall-mid-stream=30s, after=2", stream=True, max_tokens=50) as r:
        lines, how = await read_stream(r)
    assert how == "stalled" and len(lines) == 1 + 2
    async with await post(client, url, "ttft=30s", stream=True, max_tokens=5) as r:
        assert r.status == 200  # headers (and the role chunk) come at once, the first token does not
        lines, how = await read_stream(r)
    assert how == "stalled" and len(lines) == 1


async def test_engine_death(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await url_of(fleet_factory, faults={"engineDead": True})
    async with client.get(url + "/health") as r:
        assert r.status == 503
    async with client.post(url + "/v1/chat/completions", json=chat_body()) as r:
        assert r.status == 500 and (await r.json())["error"]["type"] == "EngineDeadError"
    async with client.post(url + "/sim/faults", json={"engineDead": False}) as r:
        assert r.status == 200
    async with client.get(url + "/health") as r:
        assert r.status == 200


async def test_startup_refuses_then_loads_then_is_ready(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = await url_of(fleet_factory, startupDelay={"refuse": "300ms", "loading": "300ms"})
    with pytest.raises(aiohttp.ClientConnectorError):
        async with client.get(url + "/health"):
            pass
    seen: list[int] = []
    for _ in range(300):  # bounded: refuse, then 503, then 200
        try:
            async with client.get(url + "/health") as r:
                if not seen or seen[-1] != r.status:
                    seen.append(r.status)
                if r.status == 200:
                    break
        except aiohttp.ClientConnectorError:
            pass
        await asyncio.sleep(0.01)
    assert seen == [503, 200]


async def test_faults_apply_to_classic_kinds(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    spec = FleetSpec.from_dict({"timeScale": 0, "models": [{"name": "clf", "kind": "kserve"}]})
    url = (await fleet_factory(spec)).replicas[0].url
    body = {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}
    async with client.post(
        url + "/v2/models/clf/infer", json=body, headers={"x-sim-fault": "status=503"}
    ) as r:
        assert r.status == 503 and "error" in await r.json()
