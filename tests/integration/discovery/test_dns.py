"""DNS discovery against a tiny DNS server on loopback UDP: A/AAAA and SRV, TTL-driven re-resolution, the
last good set kept through failures, and a proxy whose pool follows the records."""

from __future__ import annotations

import asyncio
import random

import pytest

from inferlane.config.picking import DnsDiscoveryConfig
from inferlane.discovery.dns import DnsProducer
from inferlane.discovery.dns_wire import Record
from inferlane.sim import FleetSpec, SimFleet
from support.dns_server import DnsServer
from support.proxy import proxy_config


@pytest.fixture
async def dns():
    server = await DnsServer().start()
    yield server
    server.stop()


def producer(server: DnsServer, **config) -> DnsProducer:
    settings = DnsDiscoveryConfig.model_validate(
        {"nameservers": [server.address], "timeout": "200ms", **config}
    )
    return DnsProducer("llm", settings, random.Random(1))


async def test_a_and_aaaa_records_become_endpoints(dns):
    dns.records[("models.test", "A")] = [
        Record("models.test", "A", 30, "10.0.0.2"),
        Record("models.test", "A", 5, "10.0.0.1"),
    ]
    dns.records[("models.test", "AAAA")] = [Record("models.test", "AAAA", 60, "fd00::1")]
    endpoints, ttl = await producer(dns, name="models.test", port=8000).resolve()
    assert [e.url for e in endpoints] == [
        "http://10.0.0.1:8000",
        "http://10.0.0.2:8000",
        "http://[fd00::1]:8000",
    ]
    assert ttl == 5
    only_v4, _ = await producer(dns, name="models.test", port=8000, type="A").resolve()
    assert len(only_v4) == 2


async def test_srv_uses_additional_records_or_resolves_targets(dns):
    name = "_http._tcp.vllm.test"
    dns.records[(name, "SRV")] = [
        Record(name, "SRV", 30, "pod-a.test", 8000, 0, 3),
        Record(name, "SRV", 30, "pod-b.test", 8001, 0, 1),
    ]
    dns.additional[(name, "SRV")] = [Record("pod-a.test", "A", 30, "10.1.0.1")]
    dns.records[("pod-b.test", "A")] = [Record("pod-b.test", "A", 2, "10.1.0.2")]
    endpoints, ttl = await producer(dns, name=name, type="SRV").resolve()
    assert [(e.url, e.weight) for e in endpoints] == [
        ("http://10.1.0.1:8000", 3),
        ("http://10.1.0.2:8001", 1),
    ]
    assert ttl == 2
    assert ("pod-a.test", "A") not in dns.queries  # taken from the additional section


async def test_reresolves_on_ttl_and_keeps_the_last_set_through_failures(dns):
    dns.records[("m.test", "A")] = [Record("m.test", "A", 0, "10.0.0.1")]
    published: list[list[str]] = []
    p = producer(dns, name="m.test", port=80, type="A", minInterval="20ms", interval="10s")
    task = asyncio.create_task(p.run(lambda eps: published.append([e.authority for e in eps])))
    try:
        async with asyncio.timeout(5):
            while not published:
                await asyncio.sleep(0.01)
            dns.records[("m.test", "A")] = [Record("m.test", "A", 0, "10.0.0.2")]  # TTL 0: next round soon
            while len(published) < 2:
                await asyncio.sleep(0.01)
            dns.silent = True  # the DNS server stops answering
            rounds = p.rounds
            while p.rounds < rounds + 2:
                await asyncio.sleep(0.01)
            dns.silent = False
            dns.records[("m.test", "A")] = []  # an empty answer does not empty the pool either
            rounds = p.rounds
            while p.rounds < rounds + 2:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert published == [["10.0.0.1:80"], ["10.0.0.2:80"]]


async def test_a_proxy_pool_follows_srv_records(dns, proxies, http):
    fleet = SimFleet(FleetSpec.quick(model="m", replicas=3, time_scale=0.0))
    await fleet.start()
    try:
        a, b, c = fleet.replicas
        name = "_http._tcp.sims.test"
        dns.records[("sim.test", "A")] = [Record("sim.test", "A", 60, "127.0.0.1")]

        def serve(*replicas):
            dns.records[(name, "SRV")] = [Record(name, "SRV", 0, "sim.test", r.port, 0, 1) for r in replicas]

        serve(a, b)
        config = proxy_config({"llm": [a.url]})
        config["backends"][0]["discovery"] = {
            "dns": {"name": name, "type": "SRV", "nameservers": [dns.address], "minInterval": "20ms"}
        }
        proxy = await proxies(config)
        pool = proxy.app.holder.current.backends["llm"].pool

        async def endpoints_become(*replicas):
            wanted = sorted(r.url.removeprefix("http://") for r in replicas)
            async with asyncio.timeout(5):
                while sorted(s.endpoint.authority for s in pool.states.values()) != wanted:
                    await asyncio.sleep(0.01)

        await endpoints_become(a, b)
        serve(c)
        await endpoints_become(c)
        body = {"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}
        async with http.post(proxy.url + "/v1/chat/completions", json=body) as r:
            assert r.status == 200
            assert r.headers["x-inferlane-endpoint"] == c.url.removeprefix("http://")
    finally:
        await fleet.stop()
