from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferlane.stages.retry.policy import (
    BUDGET_BUCKETS,
    Failure,
    Outcome,
    RetryBudget,
    RetryPolicy,
    backoff_delay,
    is_retriable,
    parse_retry_after,
    should_retry,
)

CONNECT, RESET, TIMEOUT = (
    Outcome(failure=Failure.CONNECT),
    Outcome(failure=Failure.RESET),
    Outcome(failure=Failure.TIMEOUT),
)


def policy(conditions: str, codes=(429, 503), attempts=2, base=0.025, cap=0.25) -> RetryPolicy:
    return RetryPolicy(attempts, frozenset(filter(None, conditions.split(","))), frozenset(codes), base, cap)


@pytest.mark.parametrize(
    ("conditions", "outcome", "expected"),
    [
        ("5xx", Outcome(status=500), True),
        ("5xx", Outcome(status=503), True),
        ("5xx", Outcome(status=599), True),
        ("5xx", Outcome(status=200), False),
        ("5xx", Outcome(status=600), False),
        ("gateway-error", Outcome(status=502), True),
        ("gateway-error", Outcome(status=503), True),
        ("gateway-error", Outcome(status=504), True),
        ("gateway-error", Outcome(status=500), False),
        ("gateway-error", Outcome(status=429), False),
        ("retriable-status-codes", Outcome(status=429), True),
        ("retriable-status-codes", Outcome(status=503), True),
        ("retriable-status-codes", Outcome(status=500), False),
        ("5xx", Outcome(status=429), False),  # listed codes need the retriable-status-codes condition
        ("retriable-4xx", Outcome(status=409), True),
        ("retriable-4xx", Outcome(status=429), False),
        ("503", Outcome(status=503), True),  # Istio's bare status codes
        ("503", Outcome(status=502), False),
        # local-origin failures: each kind by name
        ("connect-failure", CONNECT, True),
        ("connect-failure", RESET, False),
        ("connect-failure", TIMEOUT, False),
        ("timeout", TIMEOUT, True),
        ("timeout", CONNECT, False),
        ("timeout", RESET, False),
        # as in Envoy, reset/5xx/gateway-error cover every failure before headers
        ("reset", RESET, True),
        ("reset", CONNECT, True),
        ("reset", TIMEOUT, True),
        ("5xx", CONNECT, True),
        ("5xx", RESET, True),
        ("gateway-error", TIMEOUT, True),
        ("retriable-status-codes", CONNECT, False),
        ("retriable-4xx,503", RESET, False),
        ("", Outcome(status=503), False),
        ("", CONNECT, False),
        ("5xx,gateway-error,reset", Outcome(), False),  # nothing happened: nothing to retry
    ],
)
def test_is_retriable_follows_retry_on(conditions, outcome, expected):
    assert is_retriable(policy(conditions), outcome) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conditions": "5xx,sometimes"}, "sometimes"),
        ({"conditions": "5xx", "attempts": -1}, "negative"),
        ({"conditions": "5xx", "base": -0.1}, "negative"),
    ],
)
def test_invalid_policies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        policy(**kwargs)


@pytest.mark.parametrize(
    ("attempts", "done", "outcome", "expected"),
    [
        (2, 0, Outcome(status=503), True),
        (2, 1, Outcome(status=503), True),
        (2, 2, Outcome(status=503), False),
        (2, 5, Outcome(status=503), False),
        (0, 0, Outcome(status=503), False),
        (3, 0, Outcome(status=400), False),
        (3, 0, Outcome(status=200), False),
        (1, 0, RESET, True),
        (1, 1, RESET, False),
    ],
)
def test_attempts_are_retries_after_the_first_try(attempts, done, outcome, expected):
    assert should_retry(policy("5xx", attempts=attempts), done, outcome) is expected


@pytest.mark.parametrize(
    ("done", "ceiling"), [(0, 0.025), (1, 0.05), (2, 0.1), (3, 0.2), (4, 0.25), (40, 0.25), (10_000, 0.25)]
)
def test_backoff_is_full_jitter_under_a_growing_capped_ceiling(done, ceiling):
    rng = random.Random(done)
    samples = [backoff_delay(policy("5xx"), done, rng) for _ in range(2000)]
    assert all(0 <= s <= ceiling for s in samples)
    assert min(samples) < ceiling * 0.02, "full jitter reaches down to zero"
    assert max(samples) > ceiling * 0.98
    assert sum(samples) / len(samples) == pytest.approx(ceiling / 2, rel=0.06)


def test_backoff_means_grow_until_the_cap():
    rng = random.Random(3)
    means = [sum(backoff_delay(policy("5xx"), d, rng) for _ in range(2000)) / 2000 for d in range(6)]
    assert means[0] < means[1] < means[2] < means[3] < means[4]
    assert means[4] == pytest.approx(means[5], rel=0.1)


@pytest.mark.parametrize("retry_after", [0.0, 0.5, 7.0, 3600.0])
def test_retry_after_is_honoured_as_given(retry_after):
    assert backoff_delay(policy("5xx"), 3, random.Random(1), retry_after=retry_after) == retry_after


NOW = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0", 0.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),  # IMF-fixdate
        ("Wednesday, 21-Oct-15 07:28:30 GMT", 30.0),  # obsolete RFC 850
        ("Wed Oct 21 07:29:00 2015", 60.0),  # obsolete asctime, GMT by definition
        ("Wed, 21 Oct 2015 07:28:05 -0000", 5.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("Wed, 32 Oct 2015 07:28:10 GMT", None),
        ("soon", None),
        ("3 seconds", None),
        ("1e3", None),
        ("\u00b2", None),  # a digit to str.isdigit, not to float
        ("9" * 400, None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("ratio", "per_second", "ttl", "requests", "expected"),
    [
        (0.2, 0, 10, 100, 20),
        (0.29, 0, 10, 100, 29),  # no float shortfall: 0.29 × 100 is 28.999…
        (0.5, 0, 10, 7, 3),
        (0.0, 0, 10, 100, 0),
        (1.0, 0, 10, 100, 100),
        (0.2, 1, 10, 0, 10),  # the floor alone: min_retries_per_second × ttl
        (0.2, 1, 10, 100, 30),  # ratio and floor add up
        (0.1, 0.5, 4, 20, 4),
    ],
)
def test_budget_allows_ratio_of_requests_plus_floor(ratio, per_second, ttl, requests, expected):
    budget = RetryBudget(ratio, per_second, ttl)
    for i in range(requests):
        budget.record_request(1000 + i * ttl * 0.5 / max(requests, 1))
    assert budget.remaining(1000 + ttl * 0.5) == expected
    assert sum(budget.try_spend(1000 + ttl * 0.5) for _ in range(expected + 50)) == expected
    assert budget.remaining(1000 + ttl * 0.5) == 0


def test_budget_window_slides():
    budget = RetryBudget(retry_ratio=0.5, min_retries_per_second=0, ttl=10)
    for _ in range(10):
        budget.record_request(100.0)
    assert sum(budget.try_spend(100.5) for _ in range(10)) == 5
    assert not budget.try_spend(105.0), "spent retries count for the whole window"
    assert budget.remaining(108.9) == 0
    assert budget.remaining(111.0) == 0, "requests older than ttl no longer earn retries"
    for _ in range(4):
        budget.record_request(111.0)
    assert sum(budget.try_spend(111.0) for _ in range(4)) == 2
    assert budget.remaining(10_000.0) == 0, "a long quiet spell forgets everything"


def test_budget_under_a_sick_fleet_holds_retries_to_the_ratio():
    # every request fails and wants a retry; 100 req/s for a minute
    budget = RetryBudget(retry_ratio=0.2, min_retries_per_second=0, ttl=10)
    retries = 0
    for i in range(6000):
        now = i / 100
        budget.record_request(now)
        retries += sum(budget.try_spend(now) for _ in range(3))
    assert retries == pytest.approx(0.2 * 6000, rel=0.03)


def test_budget_tolerates_a_clock_stepping_back():
    budget = RetryBudget(retry_ratio=1.0, min_retries_per_second=0, ttl=10)
    budget.record_request(50.0)
    budget.record_request(49.0)
    assert budget.remaining(48.0) == 2


@pytest.mark.parametrize(("ratio", "per_second", "ttl"), [(-0.1, 1, 10), (0.2, -1, 10), (0.2, 1, 0)])
def test_invalid_budgets_are_refused(ratio, per_second, ttl):
    with pytest.raises(ValueError, match="retry budget"):
        RetryBudget(ratio, per_second, ttl)


@given(
    events=st.lists(
        st.tuples(st.booleans(), st.floats(min_value=0, max_value=3, allow_nan=False)), max_size=300
    ),
    ratio=st.floats(min_value=0, max_value=1),
    per_second=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_budget_never_exceeds_ratio_times_requests_in_window_plus_floor(events, ratio, per_second):
    """Model check: every decision equals a brute-force count over the documented window."""
    ttl = 5.0
    width = ttl / BUDGET_BUCKETS
    budget = RetryBudget(retry_ratio=ratio, min_retries_per_second=per_second, ttl=ttl)
    log: list[tuple[int, bool]] = []  # (bucket, is_request) of everything counted
    now = 0.0
    for is_request, step in events:
        now += step
        bucket = math.floor(now / width)
        if is_request:
            budget.record_request(now)
            log.append((bucket, True))
            continue
        in_window = [r for b, r in log if b > bucket - BUDGET_BUCKETS]
        requests, retries = in_window.count(True), in_window.count(False)
        allowed = retries + 1 <= ratio * requests + per_second * ttl + 1e-9
        assert budget.try_spend(now) is allowed
        if allowed:
            log.append((bucket, False))
