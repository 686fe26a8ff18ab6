from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferlane.stages.batching.policy import (
    AdaptiveWindow,
    BatchSettings,
    Flush,
    Hold,
    SendNow,
    WaitUntil,
    callers_to_take,
    flush_decision,
)

DYNAMIC = BatchSettings(max_batch_size=8, max_wait=0.05, max_concurrent_batches=2)
FIXED = BatchSettings(max_batch_size=8, max_wait=0.05, strategy="fixed", max_concurrent_batches=2)
ADAPTIVE = BatchSettings(max_batch_size=8, max_wait=0.05, strategy="adaptive", max_concurrent_batches=2)
PREFERRED = BatchSettings(
    max_batch_size=8, max_wait=0.05, preferred_batch_sizes=(4, 2), max_concurrent_batches=3
)
ONE_SLOT = BatchSettings(max_batch_size=8, max_wait=0.05, max_concurrent_batches=1)

# (settings, queued items, oldest age, batches in flight, window) -> decision
CASES: dict[str, tuple[BatchSettings, int, float, int, float, Flush]] = {
    "empty queue holds": (DYNAMIC, 0, 0.0, 0, 0.05, Hold()),
    "dynamic: an arrival to an idle batcher goes at once": (DYNAMIC, 1, 0.0, 0, 0.05, SendNow(1)),
    "dynamic: idle with a few queued sends them all": (DYNAMIC, 5, 0.001, 0, 0.05, SendNow(5)),
    "dynamic: busy with a free slot collects": (DYNAMIC, 3, 0.01, 1, 0.05, WaitUntil(0.05)),
    "dynamic: the window passed while busy": (DYNAMIC, 3, 0.05, 1, 0.05, SendNow(3)),
    "dynamic: full batch while busy": (DYNAMIC, 8, 0.0, 1, 0.05, SendNow(8)),
    "dynamic: more than a batch sends one batch": (DYNAMIC, 20, 0.0, 0, 0.05, SendNow(8)),
    "dynamic: all slots busy holds even when full": (DYNAMIC, 9, 0.0, 2, 0.05, Hold()),
    "dynamic: all slots busy holds past the window": (DYNAMIC, 2, 1.0, 2, 0.05, Hold()),
    "one slot: busy holds": (ONE_SLOT, 3, 0.01, 1, 0.05, Hold()),
    "one slot: the slot frees, idle, goes at once": (ONE_SLOT, 3, 0.01, 0, 0.05, SendNow(3)),
    "fixed: idle still waits the window": (FIXED, 1, 0.0, 0, 0.05, WaitUntil(0.05)),
    "fixed: window passed": (FIXED, 3, 0.06, 0, 0.05, SendNow(3)),
    "fixed: full goes before the window": (FIXED, 8, 0.0, 0, 0.05, SendNow(8)),
    "fixed: slots busy holds": (FIXED, 8, 1.0, 2, 0.05, Hold()),
    "adaptive: idle goes at once": (ADAPTIVE, 1, 0.0, 0, 0.02, SendNow(1)),
    "adaptive: busy waits its own window": (ADAPTIVE, 2, 0.01, 1, 0.02, WaitUntil(0.02)),
    "adaptive: its window passed": (ADAPTIVE, 2, 0.02, 1, 0.02, SendNow(2)),
    "zero window sends at once": (DYNAMIC, 2, 0.0, 1, 0.0, SendNow(2)),
    "negative window reads as zero": (DYNAMIC, 2, 0.0, 1, -1.0, SendNow(2)),
    "preferred: busy, reached a preferred size": (PREFERRED, 5, 0.01, 1, 0.05, SendNow(4)),
    "preferred: busy, below every preferred size": (PREFERRED, 1, 0.01, 1, 0.05, WaitUntil(0.05)),
    "preferred: busy, exactly the smallest": (PREFERRED, 2, 0.01, 2, 0.05, SendNow(2)),
    "preferred: idle takes the largest preferred": (PREFERRED, 7, 0.0, 0, 0.05, SendNow(4)),
    "preferred: idle below every preferred sends all": (PREFERRED, 1, 0.0, 0, 0.05, SendNow(1)),
    "preferred: the window passed sends all, not a preferred size": (PREFERRED, 7, 0.05, 1, 0.05, SendNow(7)),
    "preferred: full beats preferred": (PREFERRED, 8, 0.0, 1, 0.05, SendNow(8)),
    "preferred: all slots busy holds": (PREFERRED, 4, 0.0, 3, 0.05, Hold()),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_flush_decision(case: tuple[BatchSettings, int, float, int, float, Flush]) -> None:
    batch_settings, queued, age, in_flight, window, expected = case
    assert flush_decision(batch_settings, queued, age, in_flight, window) == expected


# (settings, queued items, oldest age, batches in flight, window, returning cohort) -> decision
COHORT_CASES: dict[str, tuple[BatchSettings, int, float, int, float, int, Flush]] = {
    "idle, a lone client's cohort of one is back: at once": (DYNAMIC, 1, 0.0, 0, 0.05, 1, SendNow(1)),
    "idle, cohort of 6 partly back: collect": (DYNAMIC, 2, 0.001, 0, 0.05, 6, WaitUntil(0.05)),
    "idle, the whole cohort is back: at once": (DYNAMIC, 6, 0.002, 0, 0.05, 6, SendNow(6)),
    "idle, cohort larger than a batch: a full batch goes": (DYNAMIC, 8, 0.0, 0, 0.05, 20, SendNow(8)),
    "idle, cohort not back but the window passed": (DYNAMIC, 2, 0.05, 0, 0.05, 6, SendNow(2)),
    "adaptive, cohort partly back: its own window": (ADAPTIVE, 2, 0.0, 0, 0.02, 6, WaitUntil(0.02)),
    "preferred, cohort partly back but a preferred size reached": (PREFERRED, 4, 0.0, 0, 0.05, 6, SendNow(4)),
    "fixed ignores the cohort": (FIXED, 6, 0.0, 0, 0.05, 6, WaitUntil(0.05)),
}


@pytest.mark.parametrize("case", COHORT_CASES.values(), ids=COHORT_CASES.keys())
def test_a_returning_cohort_is_collected_before_an_idle_send(
    case: tuple[BatchSettings, int, float, int, float, int, Flush],
) -> None:
    batch_settings, queued, age, in_flight, window, cohort, expected = case
    assert flush_decision(batch_settings, queued, age, in_flight, window, cohort) == expected


def test_fixed_ignores_preferred_sizes() -> None:
    fixed = BatchSettings(max_batch_size=8, strategy="fixed", preferred_batch_sizes=(2,))
    assert flush_decision(fixed, 3, 0.0, 1, 0.05) == WaitUntil(0.05)


@settings(max_examples=150, deadline=None)
@given(
    strategy=st.sampled_from(["dynamic", "adaptive", "fixed"]),
    max_batch=st.integers(1, 64),
    slots=st.integers(1, 4),
    queued=st.integers(0, 200),
    age=st.floats(0, 1),
    in_flight=st.integers(0, 6),
    window=st.floats(0, 1),
)
def test_flush_never_oversends_and_never_exceeds_slots(
    strategy: str, max_batch: int, slots: int, queued: int, age: float, in_flight: int, window: float
) -> None:
    batch_settings = BatchSettings(max_batch_size=max_batch, strategy=strategy, max_concurrent_batches=slots)  # type: ignore[arg-type]
    decision = flush_decision(batch_settings, queued, age, in_flight, window)
    if in_flight >= slots or queued == 0:
        assert decision == Hold()
    elif isinstance(decision, SendNow):
        assert 1 <= decision.items <= min(queued, max_batch)
    else:
        assert decision == WaitUntil(window)
        assert age < window and queued < max_batch


def test_callers_to_take() -> None:
    assert callers_to_take([], 8) == 0
    assert callers_to_take([3, 3, 3], 8) == 2
    assert callers_to_take([3, 3, 2], 8) == 3
    assert callers_to_take([5, 1], 4) == 1  # the head always goes
    assert callers_to_take([1, 1, 1, 1], 2) == 2


BAD_SETTINGS = {
    "zero batch": {"max_batch_size": 0},
    "zero slots": {"max_concurrent_batches": 0},
    "negative wait": {"max_wait": -0.1},
    "min above max": {"min_wait": 0.2, "max_wait": 0.1},
    "preferred above max": {"max_batch_size": 4, "preferred_batch_sizes": (8,)},
    "preferred zero": {"preferred_batch_sizes": (0,)},
    "target above max": {"max_batch_size": 4, "target_batch_size": 5},
    "unknown strategy": {"strategy": "greedy"},
}


@pytest.mark.parametrize("kwargs", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="batching"):
        BatchSettings(**kwargs)  # type: ignore[arg-type]


def test_preferred_sizes_are_sorted_and_deduplicated() -> None:
    assert BatchSettings(preferred_batch_sizes=(8, 2, 8, 4)).preferred_batch_sizes == (2, 4, 8)


# --- adaptive window (fake clock: floats) ---------------------------------------------------------


def arrivals(window: AdaptiveWindow, times: list[float]) -> AdaptiveWindow:
    for now in times:
        window.observe_arrival(now)
    return window


def test_adaptive_knows_nothing_yet_so_does_not_wait() -> None:
    window = AdaptiveWindow(min_wait=0.001, max_wait=0.1, target_batch_size=16)
    assert window.window(0.0) == 0.001
    window.observe_arrival(0.0)
    assert window.rate(0.0) == 0.0
    assert window.window(0.0) == 0.001


ADAPTIVE_CASES = {
    # name: (arrival times, now, expected window); min 1 ms, max 100 ms, target 16
    "1000/s: the time for 15 more arrivals": ([i * 0.001 for i in range(50)], 0.049, 0.015),
    "10000/s: 1.5 ms": ([i * 0.0001 for i in range(50)], 0.0049, 0.0015),
    "100000/s: clamped at min": ([i * 0.00001 for i in range(50)], 0.00049, 0.001),
    "100/s: target takes 150 ms, clamped at max": ([i * 0.01 for i in range(20)], 0.19, 0.1),
    "5/s: no arrival expected within max wait": ([i * 0.2 for i in range(10)], 1.8, 0.001),
    "traffic stopped: silence counts as the gap": ([i * 0.001 for i in range(50)], 0.049 + 0.5, 0.001),
    "simultaneous arrivals: infinite rate, min wait": ([0.0] * 10, 0.0, 0.001),
}


@pytest.mark.parametrize("case", ADAPTIVE_CASES.values(), ids=ADAPTIVE_CASES.keys())
def test_adaptive_window(case: tuple[list[float], float, float]) -> None:
    times, now, expected = case
    window = arrivals(AdaptiveWindow(min_wait=0.001, max_wait=0.1, target_batch_size=16), times)
    assert window.window(now) == pytest.approx(expected)


def test_adaptive_rate_follows_an_ema_of_gaps() -> None:
    window = arrivals(AdaptiveWindow(0.0, 1.0, 4, smoothing=0.5), [0.0, 0.1, 0.2])
    assert window.rate(0.2) == pytest.approx(10.0)
    window.observe_arrival(0.4)  # gap 0.2: EMA 0.1 + 0.5 * 0.1 = 0.15
    assert window.rate(0.4) == pytest.approx(1 / 0.15)
    assert window.rate(0.5) == pytest.approx(1 / 0.15)  # silence of 0.1 < the average gap
    assert window.rate(0.7) == pytest.approx(1 / 0.3)  # silence of 0.3 > the average gap


def test_adaptive_ignores_clock_going_backwards() -> None:
    window = arrivals(AdaptiveWindow(0.0, 1.0, 4), [1.0, 0.5, 1.1])
    assert math.isfinite(window.rate(1.1))
    assert window.rate(1.1) > 0


def test_adaptive_from_settings_targets_max_batch_by_default() -> None:
    window = AdaptiveWindow.from_settings(ADAPTIVE)
    assert (window.min_wait, window.max_wait, window.target_batch_size) == (0.0, 0.05, 8)
    targeted = BatchSettings(max_batch_size=8, strategy="adaptive", target_batch_size=4, min_wait=0.002)
    assert AdaptiveWindow.from_settings(targeted).target_batch_size == 4


@pytest.mark.parametrize(
    "args", [(-0.1, 0.1, 4), (0.2, 0.1, 4), (0.0, 0.1, 0)], ids=["negative", "min above max", "zero target"]
)
def test_adaptive_refuses_bad_settings(args: tuple[float, float, int]) -> None:
    with pytest.raises(ValueError, match="adaptive"):
        AdaptiveWindow(*args)


@settings(max_examples=100, deadline=None)
@given(gaps=st.lists(st.floats(0, 0.5), min_size=0, max_size=30), later=st.floats(0, 2))
def test_adaptive_window_stays_within_bounds(gaps: list[float], later: float) -> None:
    window = AdaptiveWindow(min_wait=0.002, max_wait=0.08, target_batch_size=16)
    now = 0.0
    for gap in gaps:
        now += gap
        window.observe_arrival(now)
    assert 0.002 <= window.window(now + later) <= 0.08
