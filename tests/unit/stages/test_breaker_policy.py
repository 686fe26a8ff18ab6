from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inferlane.stages.breaker.policy import BreakerState, CircuitBreaker


def opened(threshold=3, timeout=30.0, probes=2) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold, timeout, probes)
    for _ in range(threshold):
        assert breaker.try_acquire(0.0)
        breaker.on_failure(0.0)
    return breaker


def test_consecutive_failures_open_it_and_a_success_resets_the_count():
    breaker = CircuitBreaker(3, 30.0, 2)
    for _ in range(2):
        breaker.on_failure(0.0)
    breaker.on_success(0.0)
    for _ in range(2):
        breaker.on_failure(0.0)
    assert breaker.state(0.0) is BreakerState.CLOSED
    breaker.on_failure(0.0)
    assert breaker.state(0.0) is BreakerState.OPEN
    assert breaker.opened_count == 1


def test_open_admits_nothing_until_recovery_timeout():
    breaker = opened()
    assert not breaker.allows(29.9)
    assert not breaker.try_acquire(29.9)
    assert breaker.state(30.0) is BreakerState.HALF_OPEN


def test_half_open_admits_only_the_configured_probes():
    breaker = opened(probes=2)
    assert breaker.try_acquire(30.0)
    assert breaker.try_acquire(30.0)
    assert not breaker.try_acquire(30.0)
    breaker.release(30.1)
    assert breaker.try_acquire(30.1)


def test_enough_probe_successes_close_it():
    breaker = opened(probes=2)
    for _ in range(2):
        assert breaker.try_acquire(31.0)
    breaker.on_success(31.0)
    assert breaker.state(31.0) is BreakerState.HALF_OPEN
    breaker.on_success(31.0)
    assert breaker.state(31.0) is BreakerState.CLOSED
    assert breaker.allows(31.0)


def test_a_probe_failure_reopens_and_restarts_the_timer():
    breaker = opened(timeout=30.0)
    assert breaker.try_acquire(30.0)
    breaker.on_failure(35.0)
    assert breaker.state(60.0) is BreakerState.OPEN
    assert breaker.state(65.0) is BreakerState.HALF_OPEN
    assert breaker.opened_count == 2


@given(st.lists(st.sampled_from(["acquire", "success", "failure", "release", "tick"]), max_size=200))
def test_never_more_probes_in_flight_than_allowed(ops):
    breaker = CircuitBreaker(2, 1.0, 3)
    now, in_flight = 0.0, 0
    for op in ops:
        if op == "tick":
            now += 0.6
        elif op == "acquire":
            was_half_open = breaker.state(now) is BreakerState.HALF_OPEN
            if breaker.try_acquire(now):
                in_flight += 1
                if was_half_open:
                    assert breaker._probes <= 3
        elif in_flight:
            in_flight -= 1
            getattr(breaker, {"success": "on_success", "failure": "on_failure", "release": "release"}[op])(
                now
            )
        assert 0 <= breaker._probes <= 3
