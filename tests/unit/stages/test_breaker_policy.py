from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferlane.stages.breaker.policy import BreakerState, CircuitBreaker

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN

# A script is a list of (time, operation, expected); operations:
#   "acquire" → try_acquire's answer · "allows" → allows' answer · "state" → the state
#   "ok" / "fail" / "release" end one admitted request (expected: the state afterwards)
#   "opened" → opened_count · "in_flight" → in-flight count · "retry_after" → seconds until half-open
OPEN_IT = [(0, "acquire", True), (0, "fail", CLOSED), (0, "acquire", True), (0, "fail", OPEN)]

SCRIPTS = {
    "consecutive failures open it, a success resets the count": [
        *[
            (0, op, exp)
            for op, exp in [("acquire", True), ("fail", CLOSED), ("acquire", True), ("ok", CLOSED)]
        ],
        (1, "acquire", True),
        (1, "fail", CLOSED),
        (1, "acquire", True),
        (1, "fail", OPEN),
        (1, "opened", 1),
    ],
    "a release is no verdict: the failure count stands": [
        (0, "acquire", True),
        (0, "fail", CLOSED),
        (0, "acquire", True),
        (0, "release", CLOSED),
        (0, "acquire", True),
        (0, "fail", OPEN),
    ],
    "open refuses until the recovery timeout, then is half-open": [
        *OPEN_IT,
        (29.9, "allows", False),
        (29.9, "acquire", False),
        (29.9, "state", OPEN),
        (10, "retry_after", 20.0),
        (30, "retry_after", 0.0),
        (30, "state", HALF_OPEN),
        (30, "allows", True),
    ],
    "half-open admits only the configured probes; an ended probe frees its slot": [
        *OPEN_IT,
        (30, "acquire", True),
        (30, "acquire", True),
        (30, "acquire", False),
        (30, "allows", False),
        (31, "release", HALF_OPEN),
        (31, "in_flight", 1),
        (31, "acquire", True),
        (32, "ok", HALF_OPEN),
        (32, "acquire", True),
        (32, "acquire", False),
    ],
    "enough probe successes close it": [
        *OPEN_IT,
        (30, "acquire", True),
        (30, "acquire", True),
        (31, "ok", HALF_OPEN),
        (31, "ok", CLOSED),
        (31, "allows", True),
        (31, "acquire", True),
        (31, "acquire", True),
        (31, "acquire", True),
        (31, "in_flight", 3),
    ],
    "a probe failure reopens it and restarts the timer": [
        *OPEN_IT,
        (30, "acquire", True),
        (30, "acquire", True),
        (35, "fail", OPEN),
        (35, "opened", 2),
        (50, "ok", OPEN),  # the other probe ends while open: no verdict counts
        (50, "in_flight", 0),
        (64.9, "state", OPEN),
        (65, "state", HALF_OPEN),
    ],
    "results of requests sent before it opened neither restart the timer nor close it": [
        (0, "acquire", True),
        (0, "acquire", True),
        (0, "acquire", True),
        (0, "acquire", True),
        (0, "fail", CLOSED),
        (0, "fail", OPEN),
        (20, "fail", OPEN),
        (25, "ok", OPEN),
        (30, "state", HALF_OPEN),
        (30, "in_flight", 0),
        (30, "opened", 1),
    ],
    "a long request from before opening holds a probe slot until it ends": [
        (0, "acquire", True),  # a long stream
        *OPEN_IT,
        (30, "in_flight", 1),
        (30, "acquire", True),
        (30, "acquire", False),  # two probe slots, one held by the stream
        (40, "ok", HALF_OPEN),  # the stream ends well: evidence like a probe's
        (40, "acquire", True),
        (41, "ok", CLOSED),
    ],
}


def run(breaker: CircuitBreaker, script):
    for now, op, expected in script:
        if op == "acquire":
            actual = breaker.try_acquire(now)
        elif op == "allows":
            actual = breaker.allows(now)
        elif op == "state":
            actual = breaker.state(now)
        elif op in ("ok", "fail", "release"):
            {"ok": breaker.on_success, "fail": breaker.on_failure, "release": breaker.release}[op](now)
            actual = breaker.state(now)
        elif op == "opened":
            actual = breaker.opened_count
        elif op == "in_flight":
            actual = breaker.in_flight
        else:
            actual = breaker.retry_after(now)
        assert actual == expected, f"at t={now} {op}: {actual} != {expected}"


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_breaker_scripts(script):
    run(CircuitBreaker(failure_threshold=2, recovery_timeout=30.0, half_open_requests=2), script)


def test_seed_defaults_full_cycle():
    breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=30.0, half_open_requests=3)
    for _ in range(4):
        assert breaker.try_acquire(0)
        breaker.on_failure(0)
    assert breaker.state(0) is CLOSED
    assert breaker.try_acquire(0)
    breaker.on_failure(0)
    assert breaker.state(0) is OPEN
    assert [breaker.try_acquire(30) for _ in range(4)] == [True, True, True, False]
    for _ in range(3):
        breaker.on_success(31)
    assert breaker.state(31) is CLOSED
    assert breaker.opened_count == 1
    assert breaker.in_flight == 0


@pytest.mark.parametrize(("threshold", "timeout", "probes"), [(0, 30, 3), (5, -1, 3), (5, 30, 0)])
def test_invalid_settings_are_refused(threshold, timeout, probes):
    with pytest.raises(ValueError, match="circuit breaker"):
        CircuitBreaker(threshold, timeout, probes)


def test_a_verdict_without_an_admission_does_not_go_negative():
    breaker = CircuitBreaker(5, 30, 1)
    breaker.release(0)
    breaker.on_success(0)
    assert breaker.in_flight == 0


@given(
    ops=st.lists(st.sampled_from(["acquire", "acquire", "ok", "fail", "release", "tick"]), max_size=200),
    probes=st.integers(min_value=1, max_value=4),
)
def test_probes_are_accounted_exactly_for_any_sequence(ops, probes):
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=1.0, half_open_requests=probes)
    now, outstanding = 0.0, 0
    for op in ops:
        if op == "tick":
            now += 0.6
        elif op == "acquire":
            state = breaker.state(now)
            if breaker.try_acquire(now):
                assert state is not OPEN
                if state is HALF_OPEN:
                    assert outstanding < probes, "never more than half_open_requests probes in flight"
                outstanding += 1
        elif outstanding:
            outstanding -= 1
            {"ok": breaker.on_success, "fail": breaker.on_failure, "release": breaker.release}[op](now)
        assert breaker.in_flight == outstanding
    for _ in range(outstanding):
        breaker.release(now)
    now += 1.5  # past any recovery timeout
    assert breaker.allows(now), "no slot leaks: once everything ended, a probe can go"
