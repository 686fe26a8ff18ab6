"""A real Prometheus server (Debian's package) scrapes a running proxy in front of the simulator: the
proxy's metrics — the seed's names among them — arrive with the values the traffic implies, and the
recording rules in deploy/observability/ evaluate on them."""

from __future__ import annotations

import asyncio
import math
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from inferlane.observability.metrics import ProxyMetrics
from inferlane.sim import FleetSpec, SimFleet
from support.proxy import RunningProxy, proxy_config, start_proxy

PROMETHEUS = shutil.which("prometheus")
RULES = Path(__file__).parents[2] / "deploy" / "observability" / "recording-rules.yaml"
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus (Debian package) is not installed; make sysdeps installs it"
)
#: seed metrics this traffic must produce (checked once ProxyMetrics defines them)
SEED_NAMES = (
    "http_requests_total",
    "http_request_duration_seconds_count",
    "inference_latency_ms_count",
    "ai_inference_tokens_total",
    "model_tokens_per_second",
)
#: seed metrics whose series depend on more than this traffic (checked for sane values when present)
SEED_NAMES_IF_PRESENT = ("model_load_time_seconds", "batch_size_avg", "request_queue_depth")
OK, FAILED, TOKENS = 12, 2, 8
TOTAL = OK + FAILED
ARGO_ERROR_RATE = (
    'sum(rate(http_requests_total{{service="{service}",code=~"5xx"}}[1m])) / '
    'sum(rate(http_requests_total{{service="{service}"}}[1m]))'
)
ARGO_LATENCY_P99 = (
    "histogram_quantile(0.99, "
    'sum(rate(http_request_duration_seconds_bucket{{service="{service}"}}[1m])) by (le)) * 1000'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def defined_names() -> set[str]:
    metrics = ProxyMetrics()
    metrics.watch_in_flight(lambda: 0)
    metrics.watch_backends(list)
    return set(metrics.registry._names_to_collectors)


class Prometheus:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.http = http

    async def query(self, promql: str) -> list[dict[str, Any]]:
        async with self.http.get(self.url + "/api/v1/query", params={"query": promql}) as response:
            body = await response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def value(self, promql: str) -> float | None:
        result = await self.query(promql)
        return float(result[0]["value"][1]) if result else None

    async def wait_for(self, promql: str, expected: float, timeout: float = 30.0) -> float | None:
        """Poll until the query answers ``expected`` (bounded); return the last answer either way."""
        return await self.wait_until(promql, lambda value: value == expected, timeout)

    async def wait_until(
        self, promql: str, good: Callable[[float], bool], timeout: float = 30.0
    ) -> float | None:
        """Poll until the query answers a value ``good`` accepts (bounded); return the last answer."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        answer = await self.value(promql)
        while (answer is None or not good(answer)) and loop.time() < end:
            await asyncio.sleep(0.25)
            answer = await self.value(promql)
        return answer


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[RunningProxy, SimFleet, Prometheus]]:
    fleet = SimFleet(FleetSpec.quick("m", replicas=2, time_scale=0.001))
    await fleet.start()
    await fleet.wait_ready()
    proxy = await start_proxy(
        proxy_config(
            {"m": [r.url for r in fleet.replicas]},
            healthCheck={"enabled": True, "interval": "200ms", "timeout": "1s"},
            routing={"endpoints": [{"name": "chat", "path": "/v1/chat/completions", "backend": "m"}]},
        )
    )
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    admin = proxy.admin_url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "scrape_configs": [
            {"job_name": "inferlane", "static_configs": [{"targets": [admin]}]},
            {"job_name": "vllm", "static_configs": [{"targets": [r.url[7:] for r in fleet.replicas]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    assert PROMETHEUS is not None
    process = await asyncio.create_subprocess_exec(
        PROMETHEUS,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=log,
        stderr=log,
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            await _wait_ready(f"http://127.0.0.1:{port}", http, process, tmp_path / "prometheus.log")
            yield proxy, fleet, Prometheus(f"http://127.0.0.1:{port}", http)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()
        await proxy.app.shutdown()
        await fleet.stop()


async def _wait_ready(url: str, http: aiohttp.ClientSession, process: Any, log: Path) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while loop.time() < end:
        if process.returncode is not None:
            pytest.fail(f"prometheus exited {process.returncode}:\n{_tail(log)}")
        try:
            async with http.get(url + "/-/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail(f"prometheus not ready in 60s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-2000:]


async def _drive(proxy: RunningProxy, http: aiohttp.ClientSession, ok: int, failed: int) -> None:
    """``ok`` chat requests (every third one streamed) and ``failed`` ones the simulator answers with 500."""
    for i in range(ok + failed):
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": f"question {i}"}],
            "max_tokens": TOKENS,
            "stream": i % 3 == 0,
        }
        headers = {"x-sim-fault": "status=500"} if i >= ok else {}
        async with http.post(proxy.url + "/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status == (200 if i < ok else 500)
            await response.read()


async def test_prometheus_scrapes_the_proxy_and_finds_the_metrics(stack) -> None:
    proxy, _, prometheus = stack
    # two rounds, each scraped before the next, so rate() windows see counters grow
    await _drive(proxy, prometheus.http, OK // 2, FAILED // 2)
    assert await prometheus.wait_for("sum(inferlane_requests_total)", TOTAL // 2) == TOTAL // 2
    await _drive(proxy, prometheus.http, OK - OK // 2, FAILED - FAILED // 2)

    assert await prometheus.wait_for("sum(inferlane_requests_total)", TOTAL) == TOTAL
    assert await prometheus.value('up{job="inferlane"}') == 1
    assert await prometheus.value('sum(inferlane_requests_total{status="200", route="chat"})') == OK
    assert await prometheus.value('sum(inferlane_requests_total{status="500", error_kind="none"})') == FAILED
    assert await prometheus.value("sum(inferlane_request_duration_seconds_count)") == TOTAL
    total_seconds = await prometheus.value("sum(inferlane_request_duration_seconds_sum)")
    assert total_seconds is not None and 0 < total_seconds < TOTAL * 10
    p99 = await prometheus.value(
        "histogram_quantile(0.99, sum by (le) (inferlane_request_duration_seconds_bucket))"
    )
    assert p99 is not None and 0 < p99 <= 10
    assert await prometheus.value('sum(inferlane_upstream_attempts_total{result="success"})') == OK
    assert await prometheus.value('sum(inferlane_upstream_attempts_total{result="5xx"})') == FAILED
    assert await prometheus.value("sum(inferlane_endpoint_healthy)") == 2
    assert await prometheus.value("inferlane_config_last_reload_successful") == 1

    # the recording rules evaluate on the scraped data
    assert await prometheus.wait_for('inferlane:backend_serving_endpoints{backend="m"}', 2) == 2
    assert await prometheus.wait_for("sum(inferlane:vllm_requests_waiting:sum)", 0) == 0
    kv = await prometheus.value('inferlane:vllm_kv_cache_usage:max{model_name="m"}')
    assert kv is not None and 0 <= kv <= 1
    ratio = await prometheus.wait_until('inferlane:request_error_ratio:rate5m{route="chat"}', _positive)
    assert ratio is not None and 0 < ratio < 1

    await _check_seed_names(prometheus)


async def _check_seed_names(prometheus: Prometheus) -> None:
    """The seed's metric names are scraped with sane values, and the seed's queries work on them."""
    defined = defined_names()
    assert set(SEED_NAMES) <= defined, sorted(set(SEED_NAMES) - defined)
    for name in (*SEED_NAMES, *SEED_NAMES_IF_PRESENT):
        series = await prometheus.query(name)
        assert series or name in SEED_NAMES_IF_PRESENT, f"{name}: no series scraped"
        for item in series:
            value = float(item["value"][1])
            assert math.isfinite(value) and value >= 0, (name, item)
    assert await prometheus.value("sum(http_requests_total)") == TOTAL
    # the seed's Argo AnalysisTemplate queries, verbatim, with the backend as canary-service
    error_rate = await prometheus.wait_until(ARGO_ERROR_RATE.format(service="m"), _positive)
    assert error_rate is not None and 0 < error_rate < 1
    assert await prometheus.value("sum(http_request_duration_seconds_count)") == TOTAL
    p99_ms = await prometheus.wait_until(ARGO_LATENCY_P99.format(service="m"), math.isfinite)
    assert p99_ms is not None and 0 < p99_ms <= 500  # the seed's successCondition
    p99_s = await prometheus.wait_until('ai:inference:latency_p99{model="m"}', math.isfinite)
    assert p99_s is not None and 0 < p99_s < 5  # InferenceHighLatency stays quiet
    output = await prometheus.value('sum(ai_inference_tokens_total{type="output"})')
    assert output == OK * TOKENS


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0
