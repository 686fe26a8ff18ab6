from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferlane.stages.batching.bisect import Bisection, BisectStep, bisectable, halves, run_bisection


def poisoned_by(bad: set[int]) -> Callable[[tuple[int, ...]], bool]:
    return lambda group: bool(bad & set(group))


# name: (callers, bad callers, max extra calls) -> (failed callers, batches sent after the original)
CASES: dict[str, tuple[int, set[int], int | None, tuple[int, ...], list[tuple[int, ...]]]] = {
    "nothing bad: one call": (4, set(), None, (), []),
    "one caller, bad": (1, {0}, None, (0,), []),
    "two callers, first bad": (2, {0}, None, (0,), [(0,), (1,)]),
    "four callers, one bad": (4, {2}, None, (2,), [(0, 1), (2, 3), (2,), (3,)]),
    "four callers, two bad in different halves": (
        4,
        {0, 3},
        None,
        (0, 3),
        [(0, 1), (2, 3), (0,), (1,), (2,), (3,)],
    ),
    "five callers: the first half takes the odd one": (5, {4}, None, (4,), [(0, 1, 2), (3, 4), (3,), (4,)]),
    "all bad: every caller probed alone": (3, {0, 1, 2}, None, (0, 1, 2), [(0, 1), (2,), (0,), (1,)]),
    "budget of 2: the halves, then whole halves fail": (4, {0, 2}, 2, (0, 1, 2, 3), [(0, 1), (2, 3)]),
    "budget of 0: no bisection": (4, {1}, 0, (0, 1, 2, 3), []),
    "budget of 4, one bad: enough": (4, {1}, 4, (1,), [(0, 1), (2, 3), (0,), (1,)]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bisection(case: tuple[int, set[int], int | None, tuple[int, ...], list[tuple[int, ...]]]) -> None:
    size, bad, budget, failed, resent = case
    outcome = run_bisection(size, poisoned_by(bad), budget)
    assert outcome.failed == failed
    assert list(outcome.calls) == [tuple(range(size)), *resent]


def test_a_batch_that_fails_only_as_a_whole_answers_everyone() -> None:
    """Say a 413 for the batch's total size: the halves fit and succeed."""
    outcome = run_bisection(4, lambda group: len(group) > 2)
    assert outcome.failed == ()
    assert list(outcome.calls) == [(0, 1, 2, 3), (0, 1), (2, 3)]


def test_steps() -> None:
    bisection = Bisection()
    assert bisection.failed([7]) == BisectStep(fail=(7,))
    assert bisection.failed([]) == BisectStep()
    assert bisection.failed([1, 2, 3]) == BisectStep(send=((1, 2), (3,)))
    assert bisection.extra_calls == 2
    assert halves([]) == ((), ())


def test_budget_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="max_extra_calls"):
        Bisection(-1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, True),
        (413, True),
        (422, True),
        (401, False),
        (404, False),
        (429, False),
        (500, False),
        (503, False),
    ],
)
def test_which_failures_are_bisected(status: int, expected: bool) -> None:
    assert bisectable(status) is expected


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 64))
def test_only_bad_callers_fail_and_the_cost_is_bounded(data: st.DataObject, size: int) -> None:
    bad = data.draw(st.sets(st.integers(0, size - 1), max_size=size))
    outcome = run_bisection(size, poisoned_by(bad))
    assert set(outcome.failed) == bad
    extra = len(outcome.calls) - 1
    assert extra <= 2 * size - 2
    assert extra <= 2 * len(bad) * math.ceil(math.log2(size)) if size > 1 else extra == 0
    sent_alone = {group[0] for group in outcome.calls if len(group) == 1}
    assert bad <= sent_alone or size == 1  # every failed caller got its own error from its own call
