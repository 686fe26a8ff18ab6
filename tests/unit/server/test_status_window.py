"""The status page's memory of recent traffic: per-second samples and the error ring (fake clock)."""

from __future__ import annotations

import pytest

from inferlane.server.status_window import (
    ErrorRing,
    RecentError,
    TrafficWindow,
    is_failure,
    is_listed,
    quantile_ms,
)


def test_requests_land_in_their_second_and_the_running_second_is_left_out() -> None:
    window = TrafficWindow(seconds=5)
    window.add(100.1, 0.010, error=False)
    window.add(100.9, 0.030, error=True)
    window.add(102.5, 0.200, error=False)
    samples = window.samples(now=103.2)
    assert [s["t"] for s in samples] == [99, 100, 101, 102]
    by_t = {s["t"]: s for s in samples}
    assert by_t[100]["requests"] == 2 and by_t[100]["errors"] == 1
    assert by_t[100]["avg_ms"] == pytest.approx(20.0)
    assert by_t[101] == {"t": 101, "requests": 0, "errors": 0, "avg_ms": None, "p50_ms": None, "p95_ms": None}
    assert by_t[102]["requests"] == 1
    assert window.samples(now=102.7)[-1]["t"] == 101  # 102 is still running
    assert (window.total_requests, window.total_errors) == (3, 1)


def test_successes_folded_in_bulk_match_requests_added_one_by_one() -> None:
    one_by_one, bulk = TrafficWindow(seconds=10), TrafficWindow(seconds=10)
    durations = [0.0004, 0.001, 0.0031, 0.005, 0.0071, 0.049, 0.2, 0.9, 3.0, 200.0]
    for i, seconds in enumerate(durations):
        now = 100.0 + i / 4  # seconds 100, 101 and 102
        one_by_one.add(now, seconds, error=False)
        bulk.add_ok(now, seconds)
        if i == 5:  # an error in between folds what is open first
            one_by_one.add(now, 0.5, error=True)
            bulk.add(now, 0.5, error=True)
    assert bulk.total_requests == one_by_one.total_requests == 11
    assert bulk.samples(now=103.5) == one_by_one.samples(now=103.5)
    assert [s["requests"] for s in bulk.samples(now=103.5)][-3:] == [4, 5, 2]


def test_old_seconds_are_overwritten_not_reported_as_recent() -> None:
    window = TrafficWindow(seconds=3)
    window.add(10.0, 0.001, error=False)
    window.add(13.0, 0.001, error=False)  # same ring slot as second 10
    samples = window.samples(now=14.0)
    assert [(s["t"], s["requests"]) for s in samples] == [(12, 0), (13, 1)]


@pytest.mark.parametrize(
    ("counts", "q", "expected"),
    [
        ([], 0.5, None),
        ([0] * 17, 0.5, None),
        ([0, 0, 0, 4] + [0] * 13, 0.5, 7.5),  # all four in (5, 10] ms: the median sits mid-bucket
        ([0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.95, 97.5),  # (50, 100]
        ([1] + [0] * 15 + [1], 0.95, 120000.0),  # the open last bucket reports its lower bound
    ],
)
def test_quantiles_interpolate_inside_the_bucket(counts: list[int], q: float, expected: float | None) -> None:
    if not counts:
        counts = [0] * 17
    assert quantile_ms(counts, q) == expected


def test_p95_follows_the_slow_tail() -> None:
    window = TrafficWindow(seconds=10)
    for _ in range(90):
        window.add(50.0, 0.004, error=False)
    for _ in range(10):
        window.add(50.0, 0.8, error=False)
    sample = window.samples(now=51.0)[-1]
    assert sample["p50_ms"] is not None and sample["p50_ms"] <= 5
    assert sample["p95_ms"] is not None and 500 < sample["p95_ms"] <= 1000


def test_window_needs_a_second() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        TrafficWindow(seconds=0)


def _error(at: float, status: int) -> RecentError:
    return RecentError(at, f"req-{at}", "chat", "m", "b", "127.0.0.1:1", status, "none", 0.1)


def test_error_ring_keeps_the_newest_and_lists_them_first() -> None:
    ring = ErrorRing(size=2)
    for at, status in [(1.0, 500), (2.0, 502), (3.0, 429)]:
        ring.add(_error(at, status))
    listed = ring.newest_first()
    assert [e["status"] for e in listed] == [429, 502]
    assert set(listed[0]) == {
        "at", "request_id", "route", "model", "backend", "endpoint", "status", "error_kind", "seconds"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "kind", "failure", "listed"),
    [
        (200, "", False, False),
        (200, "none", False, False),
        (404, "none", False, True),
        (499, "client_disconnect", False, True),
        (429, "overloaded", False, True),
        (504, "first_byte_timeout", True, True),
        (503, "circuit_open", True, True),
        (500, "none", True, True),
        (0, "", True, True),
        (200, "upstream_reset", True, True),  # a stream that broke mid-way
    ],
)
def test_what_counts_as_an_error(status: int, kind: str, failure: bool, listed: bool) -> None:
    assert is_failure(status, kind) is failure
    assert is_listed(status, kind) is listed
