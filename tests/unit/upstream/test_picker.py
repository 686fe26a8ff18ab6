"""The picking shell of a pool: profiles by engine and config, round-robin and random, sleeping endpoints,
retries moving on, in-flight prompt tokens and the saturation report."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.discovery.load_report import LoadReport
from inferlane.errors import NoHealthyEndpoint
from inferlane.picking.prompt import pick_request
from inferlane.upstream.lease import Result
from inferlane.upstream.pool import BackendPool

NOW = 100.0


def make_pool(n=3, **backend) -> BackendPool:
    config = BackendConfig.model_validate(
        {"name": "llm", "endpoints": [f"http://127.0.0.1:{8000 + i}" for i in range(n)], **backend}
    )
    return BackendPool(config, CircuitBreakerConfig(), HealthCheckConfig(), lambda: NOW, random.Random(3))


def test_profile_defaults_follow_the_engine():
    assert make_pool(engine="vllm").picker.name == "sticky-until-saturated"
    assert make_pool(engine="tei").picker.name == "least-request"
    assert make_pool(engine="tei", picking={"profile": "power-of-two"}).picker.name == "power-of-two"


def test_round_robin_takes_turns():
    pool = make_pool(picking={"profile": "round-robin"})
    picks = [pool.pick().endpoint.authority for _ in range(6)]
    assert picks[:3] == picks[3:] and len(set(picks)) == 3


def test_random_spreads():
    pool = make_pool(picking={"profile": "random"})
    seen = Counter(pool.pick().endpoint.authority for _ in range(300))
    assert len(seen) == 3 and min(seen.values()) > 50


@pytest.mark.parametrize("profile", ["sticky-until-saturated", "least-request", "round-robin", "random"])
def test_sleeping_endpoints_get_nothing_and_all_asleep_is_503(profile):
    pool = make_pool(picking={"profile": profile})
    a, b, c = pool.states.values()
    a.observe(LoadReport(sleeping=True), NOW)
    b.observe(LoadReport(sleeping=True), NOW)
    assert all(pool.pick() is c for _ in range(20))
    c.observe(LoadReport(sleeping=True), NOW)
    with pytest.raises(NoHealthyEndpoint, match="sleeping"):
        pool.pick()


def test_retries_move_to_an_endpoint_not_tried_yet():
    pool = make_pool(engine="vllm")
    request = pick_request("m", {"prompt": "p" * 4096})
    first = pool.choose((), request)
    pool.picker.record(first)
    assert first.state is not None
    second = pool.choose([first.state.endpoint], request)
    assert second.state is not None and second.state is not first.state


def test_warm_prefix_sticks_and_only_uncached_tokens_count_in_flight():
    pool = make_pool(engine="vllm", picking={"minMatchTokens": 64})
    request = pick_request("m", {"prompt": "shared system prompt " * 200})
    first = pool.choose((), request)
    pool.picker.record(first)
    assert pool.picker.uncached_tokens(first) == request.prompt_tokens
    again = pool.choose((), request)
    assert again.state is first.state and again.result.sticky
    assert pool.picker.uncached_tokens(again) <= 16  # only the partial last block is new
    assert again.state is not None
    lease = pool.lease(again.state, 123)
    assert again.state.in_flight_tokens == 123
    lease.finish(Result.SUCCESS)
    assert again.state.in_flight_tokens == 0


def test_saturation_report_uses_signals_and_in_flight_tokens():
    pool = make_pool(engine="vllm", picking={"prefillTokensPerS": 100, "ttftBudget": "1s"})
    assert not pool.saturation().saturated
    for state in pool.states.values():
        state.observe(LoadReport(queue_depth=9), NOW)
    report = pool.saturation()
    assert report.saturated and report.saturated_count == 3
    for state in pool.states.values():
        state.observe(LoadReport(), NOW - 60)  # stale: ignored, and the in-proxy counters say idle
    assert not pool.saturation().saturated
    for state in pool.states.values():
        state.begin(100)
    assert pool.saturation().saturated
