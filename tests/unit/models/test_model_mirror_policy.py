"""Mirror decisions: share copied, room left, how a shadow attempt is counted."""

from __future__ import annotations

import random

import pytest

from inferlane.errors import ConnectTimeout, TotalTimeout, UpstreamConnectError
from inferlane.stages.mirror.policy import has_room, result_of_error, result_of_status, should_mirror


@pytest.mark.parametrize(
    ("percent", "low", "high"), [(0, 0, 0), (5, 400, 600), (50, 4800, 5200), (100, 10_000, 10_000)]
)
def test_should_mirror_copies_the_configured_share(percent, low, high) -> None:
    rng = random.Random(3)
    copied = sum(should_mirror(percent, rng) for _ in range(10_000))
    assert low <= copied <= high


@pytest.mark.parametrize(("in_flight", "limit", "expected"), [(0, 1, True), (15, 16, True), (16, 16, False)])
def test_has_room(in_flight, limit, expected) -> None:
    assert has_room(in_flight, limit) is expected


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (200, "success"),
        (304, "success"),
        (404, "error"),
        (503, "error"),
        (TimeoutError(), "timeout"),
        (TotalTimeout("deadline"), "timeout"),
        (ConnectTimeout("connect"), "timeout"),
        (UpstreamConnectError("refused"), "failure"),
    ],
)
def test_results(outcome, expected) -> None:
    result = result_of_status(outcome) if isinstance(outcome, int) else result_of_error(outcome)
    assert result == expected
