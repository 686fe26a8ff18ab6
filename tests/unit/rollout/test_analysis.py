"""Canary analysis: sliding window, error rate, p99, inconclusive on too little traffic."""

from __future__ import annotations

import pytest

from inferlane.rollout.analysis import (
    AnalysisSpec,
    Outcome,
    SampleWindow,
    WindowStats,
    is_failure,
    judge,
    percentile,
)

SPEC = AnalysisSpec(max_error_rate=0.01, max_p99=0.5, min_samples=100, window=60.0)


def filled(count: int, seconds: float = 0.1, failed_every: int = 0, now: float = 0.0) -> SampleWindow:
    window = SampleWindow(60.0)
    for i in range(count):
        window.add(now, seconds, failed_every > 0 and i % failed_every == 0)
    return window


@pytest.mark.parametrize(
    ("stats", "outcome", "check", "says"),
    [
        (
            WindowStats(99, 0, 0.1),
            Outcome.INCONCLUSIVE,
            "",
            "canary 'v2' has 99 of the 100 samples needed in the last 1m",
        ),
        (WindowStats(0, 0, None), Outcome.INCONCLUSIVE, "", "0 of the 100 samples"),
        (WindowStats(100, 1, 0.5), Outcome.PASSED, "", "1/100 failed, p99 500ms"),
        (WindowStats(100, 2, 0.1), Outcome.FAILED, "error_rate", "error rate 2.00% of canary 'v2'"),
        (WindowStats(1000, 0, 0.501), Outcome.FAILED, "p99_latency", "p99 latency 501ms of canary 'v2'"),
        # both bad: the error rate is what is reported
        (WindowStats(100, 50, 3.0), Outcome.FAILED, "error_rate", "above the limit 1.00%"),
    ],
)
def test_judge(stats: WindowStats, outcome: Outcome, check: str, says: str) -> None:
    verdict = judge(SPEC, "v2", stats)
    assert verdict.outcome is outcome
    assert verdict.check == check
    assert says in verdict.reason


def test_window_counts_failures_and_p99() -> None:
    window = SampleWindow(60.0)
    for i in range(200):
        window.add(1.0, 0.010 if i < 196 else 0.900, i < 3)
    stats = window.stats(1.0)
    assert (stats.samples, stats.errors) == (200, 3)
    assert stats.p99 == pytest.approx(0.9)  # the 198th of 200 sorted durations
    assert stats.error_rate == pytest.approx(0.015)


def test_window_forgets_samples_older_than_the_window() -> None:
    window = SampleWindow(60.0)
    window.add(0.0, 5.0, True)
    window.add(30.0, 0.1, False)
    assert window.stats(59.0).samples == 2
    stats = window.stats(61.0)
    assert (stats.samples, stats.errors, stats.p99) == (1, 0, 0.1)
    assert window.stats(200.0) == WindowStats(0, 0, None)


def test_window_is_bounded() -> None:
    window = SampleWindow(60.0, capacity=100)
    for i in range(1000):
        window.add(0.0, float(i), False)
    stats = window.stats(0.0)
    assert stats.samples == 100 and stats.p99 == 998.0  # the newest 100: 900..999


@pytest.mark.parametrize(
    ("status", "failed"), [(200, False), (404, False), (429, False), (500, True), (503, True), (0, True)]
)
def test_what_counts_as_a_failure(status: int, failed: bool) -> None:
    assert is_failure(status) is failed


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([1.0], 0.99, 1.0), ([1.0, 2.0], 0.5, 1.0), ([float(i) for i in range(1, 101)], 0.99, 99.0)],
)
def test_nearest_rank_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_a_faulty_canary_fails_and_a_healthy_one_passes_from_raw_samples() -> None:
    assert judge(SPEC, "v2", filled(200, failed_every=10).stats(0.0)).outcome is Outcome.FAILED
    assert judge(SPEC, "v2", filled(200).stats(0.0)).outcome is Outcome.PASSED


COMPARING = AnalysisSpec(
    max_error_rate=0.05, max_p99=2.0, min_samples=100, max_error_rate_increase=0.005, max_p99_ratio=1.5
)


@pytest.mark.parametrize(
    ("canary", "stable", "outcome", "check", "says"),
    [
        # within the absolute limits but clearly worse than stable at the same time
        (
            WindowStats(200, 6, 0.1),
            WindowStats(2000, 20, 0.1),
            Outcome.FAILED,
            "error_rate_increase",
            "2.00% above",
        ),
        (
            WindowStats(200, 0, 0.4),
            WindowStats(2000, 0, 0.2),
            Outcome.FAILED,
            "p99_ratio",
            "is 2.00x stable 'v1'",
        ),
        (
            WindowStats(200, 2, 0.29),
            WindowStats(2000, 10, 0.2),
            Outcome.PASSED,
            "",
            "stable 'v1': 0.50% failed",
        ),
        (
            WindowStats(200, 0, 0.1),
            WindowStats(99, 0, 0.1),
            Outcome.INCONCLUSIVE,
            "",
            "stable 'v1' has 99 of the 100",
        ),
        # an absolute limit is still checked first
        (
            WindowStats(200, 20, 0.1),
            WindowStats(2000, 200, 0.1),
            Outcome.FAILED,
            "error_rate",
            "above the limit 5.00%",
        ),
    ],
)
def test_comparison_with_the_stable_baseline(
    canary: WindowStats, stable: WindowStats, outcome: Outcome, check: str, says: str
) -> None:
    verdict = judge(COMPARING, "v2", canary, ("v1", stable))
    assert (verdict.outcome, verdict.check) == (outcome, check)
    assert says in verdict.reason


def test_no_comparison_unless_configured() -> None:
    verdict = judge(SPEC, "v2", WindowStats(200, 0, 0.4), ("v1", WindowStats(0, 0, None)))
    assert verdict.outcome is Outcome.PASSED and "stable" not in verdict.reason
