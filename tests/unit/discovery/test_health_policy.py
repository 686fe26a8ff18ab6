from __future__ import annotations

import pytest

from inferlane.discovery.health_policy import HealthState


@pytest.mark.parametrize(
    ("unhealthy", "healthy", "probes", "changes", "final"),
    [
        (3, 1, [False, False], [None, None], True),
        (3, 1, [False, False, False], [None, None, False], False),
        (3, 1, [False, True, False, False], [None, None, None, None], True),
        (1, 2, [False, True, True], [False, None, True], True),
        (1, 2, [False, True, False, True, True], [False, None, None, None, True], True),
        (2, 1, [True, True], [None, None], True),
    ],
)
def test_thresholds_of_consecutive_results(unhealthy, healthy, probes, changes, final):
    state = HealthState(unhealthy, healthy)
    assert not state.probed
    assert [state.on_probe(ok) for ok in probes] == changes
    assert state.healthy is final
    assert state.probed


def test_can_start_unhealthy():
    state = HealthState(1, 1, initially_healthy=False)
    assert not state.healthy
    assert state.on_probe(True) is True
