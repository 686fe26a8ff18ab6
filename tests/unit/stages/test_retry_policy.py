from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferlane.stages.retry.policy import (
    Failure,
    Outcome,
    RetryBudget,
    RetryPolicy,
    backoff_delay,
    is_retriable,
    parse_retry_after,
    should_retry,
)


def policy(conditions: str, codes=(429, 503), attempts=2) -> RetryPolicy:
    return RetryPolicy(attempts, frozenset(conditions.split(",")), frozenset(codes), 0.025, 0.25)


@pytest.mark.parametrize(
    ("conditions", "outcome", "expected"),
    [
        ("5xx", Outcome(status=500), True),
        ("5xx", Outcome(status=599), True),
        ("5xx", Outcome(status=429), False),
        ("5xx", Outcome(status=200), False),
        ("gateway-error", Outcome(status=502), True),
        ("gateway-error", Outcome(status=504), True),
        ("gateway-error", Outcome(status=500), False),
        ("retriable-status-codes", Outcome(status=429), True),
        ("retriable-status-codes", Outcome(status=500), False),
        ("gateway-error", Outcome(status=429), False),
        ("reset", Outcome(failure=Failure.RESET), True),
        ("reset", Outcome(failure=Failure.CONNECT), False),
        ("connect-failure", Outcome(failure=Failure.CONNECT), True),
        ("timeout", Outcome(failure=Failure.TIMEOUT), True),
        ("5xx,reset", Outcome(failure=Failure.TIMEOUT), False),
        ("5xx", Outcome(), False),
    ],
)
def test_is_retriable_follows_retry_on(conditions, outcome, expected):
    assert is_retriable(policy(conditions), outcome) is expected


@pytest.mark.parametrize(("done", "expected"), [(0, True), (1, True), (2, False), (5, False)])
def test_attempts_are_retries_after_the_first_try(done, expected):
    assert should_retry(policy("5xx", attempts=2), done, Outcome(status=503)) is expected


def test_no_retries_when_attempts_is_zero():
    assert not should_retry(policy("5xx", attempts=0), 0, Outcome(status=503))


def test_backoff_grows_with_full_jitter_and_is_capped():
    rng = random.Random(1)
    p = policy("5xx")
    for done, ceiling in [(0, 0.025), (1, 0.05), (2, 0.1), (3, 0.2), (4, 0.25), (40, 0.25)]:
        samples = [backoff_delay(p, done, rng) for _ in range(500)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.9
        assert sum(samples) / len(samples) == pytest.approx(ceiling / 2, rel=0.15)


def test_retry_after_is_honoured_as_given():
    assert backoff_delay(policy("5xx"), 0, random.Random(1), retry_after=7.0) == 7.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now) == expected


def test_budget_allows_ratio_of_requests():
    budget = RetryBudget(retry_ratio=0.2, min_retries_per_second=0, ttl=10)
    for i in range(100):
        budget.record_request(1000 + i * 0.05)
    allowed = sum(budget.try_spend(1005.0) for _ in range(50))
    assert allowed == 20


def test_budget_floor_allows_retries_without_traffic():
    budget = RetryBudget(retry_ratio=0.2, min_retries_per_second=1, ttl=10)
    assert sum(budget.try_spend(50.0) for _ in range(30)) == 10


def test_budget_window_expires():
    budget = RetryBudget(retry_ratio=0.5, min_retries_per_second=0, ttl=10)
    for _ in range(10):
        budget.record_request(100.0)
    assert sum(budget.try_spend(100.5) for _ in range(10)) == 5
    assert not budget.try_spend(105.0)
    assert not budget.try_spend(111.0), "requests older than ttl no longer earn retries"
    for _ in range(4):
        budget.record_request(111.0)
    assert sum(budget.try_spend(111.0) for _ in range(4)) == 2


@given(
    events=st.lists(st.tuples(st.booleans(), st.floats(min_value=0, max_value=0.9)), max_size=300),
    ratio=st.floats(min_value=0, max_value=1),
)
def test_budget_never_exceeds_ratio_plus_floor(events, ratio):
    budget = RetryBudget(retry_ratio=ratio, min_retries_per_second=0.5, ttl=5)
    requests = retries = 0
    now = 0.0
    for is_request, step in events:
        now += step / 10  # everything stays inside one ttl window
        if is_request:
            budget.record_request(now)
            requests += 1
        elif budget.try_spend(now):
            retries += 1
    assert retries <= ratio * requests + 0.5 * 5 + 1e-9
