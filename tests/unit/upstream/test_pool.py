"""Picking an endpoint of a pool: the filters, their distinct errors, and outcome recording."""

from __future__ import annotations

import random

import pytest

from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.errors import CircuitOpen, NoHealthyEndpoint, PoolFull
from inferlane.upstream.lease import Result
from inferlane.upstream.pool import BackendPool
from support.clock import Clock


def make_pool(n=3, clock=None, **backend) -> BackendPool:
    config = BackendConfig.model_validate(
        {"name": "llm", "endpoints": [f"http://127.0.0.1:{8000 + i}" for i in range(n)], **backend}
    )
    breaker = CircuitBreakerConfig(failure_threshold=2, recovery_timeout=10, half_open_requests=1)
    return BackendPool(config, breaker, HealthCheckConfig(), clock or Clock(100.0), random.Random(3))


def test_least_in_flight_wins():
    pool = make_pool()
    states = list(pool.states.values())
    for state, requests in zip(states, (4, 1, 2), strict=True):
        for _ in range(requests):
            state.begin()
    assert pool.pick() is states[1]


def test_excluded_endpoints_are_skipped_while_others_remain():
    pool = make_pool(2)
    a, b = pool.states.values()
    assert pool.pick(exclude=[a.endpoint]) is b
    assert pool.pick(exclude=[a.endpoint, b.endpoint]) in (a, b)


def test_unhealthy_endpoints_are_not_picked_and_none_left_is_503():
    pool = make_pool(2)
    a, b = pool.states.values()
    for _ in range(3):
        a.probe(False)
    assert all(pool.pick() is b for _ in range(10))
    for _ in range(3):
        b.probe(False)
    with pytest.raises(NoHealthyEndpoint, match="no healthy upstream"):
        pool.pick()


def test_open_breakers_fail_fast_naming_the_backend():
    clock = Clock(100.0)
    pool = make_pool(1, clock)
    (state,) = pool.states.values()
    for _ in range(2):
        lease = pool.lease(pool.pick())
        lease.finish(Result.SERVER_ERROR)
    with pytest.raises(CircuitOpen, match="circuit breaker open: backend 'llm'"):
        pool.pick()
    clock.now += 10
    probe = pool.lease(pool.pick())
    with pytest.raises(CircuitOpen):
        pool.pick()
    probe.finish(Result.SUCCESS)
    assert pool.pick() is state


def test_full_endpoints_give_pool_full():
    pool = make_pool(2, connectionPool={"maxConnections": 1, "maxPendingRequests": 1})
    leases = [pool.lease(pool.pick()) for _ in range(4)]
    with pytest.raises(PoolFull, match="pool full: backend 'llm' has 2 requests"):
        pool.pick()
    leases[0].finish(Result.SUCCESS)
    pool.pick()


def test_lease_counts_in_flight_once_and_feeds_outlier_detection():
    clock = Clock(100.0)
    pool = make_pool(2, clock, outlierDetection={"consecutive5xx": 2, "maxEjectionPercent": 50})
    a, b = pool.states.values()
    for _ in range(2):
        lease = pool.lease(a)
        lease.finish(Result.SERVER_ERROR)
        lease.finish(Result.SERVER_ERROR)
    assert a.in_flight == 0
    assert pool.outliers.is_ejected(a.endpoint.id, clock.now)
    assert all(pool.pick() is b for _ in range(5))


def test_abandoned_attempt_is_no_verdict():
    pool = make_pool(1)
    (state,) = pool.states.values()
    for _ in range(5):
        pool.lease(pool.pick()).finish(Result.ABANDONED)
    assert state.breaker.state(pool.clock()).value == "closed"
    assert state.in_flight == 0


def test_snapshot_swap_keeps_state_of_endpoints_that_stay():
    pool = make_pool(2)
    a, _ = pool.states.values()
    a.begin()
    pool.set_endpoints((a.endpoint,))
    assert list(pool.states.values()) == [a]
    assert pool.snapshot.version == 2


def test_retry_with_only_unhealthy_untried_endpoints_left_says_unhealthy():
    pool = make_pool(2)
    a, b = pool.states.values()
    for _ in range(3):
        b.probe(False)
    with pytest.raises(NoHealthyEndpoint, match="no healthy upstream"):
        pool.pick(exclude=[a.endpoint])  # a was tried; only the unhealthy b is left
