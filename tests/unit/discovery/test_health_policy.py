from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferlane.discovery.health_policy import HealthState


@pytest.mark.parametrize(
    ("unhealthy", "healthy", "initially", "probes", "changes", "final"),
    [
        (3, 1, True, [False, False], [None, None], True),
        (3, 1, True, [False, False, False], [None, None, False], False),
        (3, 1, True, [False, True, False, False], [None, None, None, None], True),  # the run must be unbroken
        (3, 1, True, [False] * 5, [None, None, False, None, None], False),  # changes are reported once
        (1, 2, True, [False, True, True], [False, None, True], True),
        (1, 2, True, [False, True, False, True, True], [False, None, None, None, True], True),
        (2, 1, True, [True, True], [None, None], True),
        (1, 1, True, [False, True, False, True], [False, True, False, True], True),
        (3, 2, False, [True], [None], False),
        (3, 2, False, [True, True], [None, True], True),
        (3, 2, False, [False, False, False, True], [None, None, None, None], False),
    ],
)
def test_thresholds_of_consecutive_results(unhealthy, healthy, initially, probes, changes, final):
    state = HealthState(unhealthy, healthy, initially_healthy=initially)
    assert not state.probed
    assert state.healthy is initially
    assert [state.on_probe(ok) for ok in probes] == changes
    assert state.healthy is final
    assert state.probed


@pytest.mark.parametrize(("unhealthy", "healthy"), [(0, 1), (1, 0)])
def test_invalid_thresholds_are_refused(unhealthy, healthy):
    with pytest.raises(ValueError, match="health check"):
        HealthState(unhealthy, healthy)


@given(
    unhealthy=st.integers(1, 4),
    healthy=st.integers(1, 4),
    probes=st.lists(st.booleans(), max_size=60),
)
def test_health_flips_only_after_an_unbroken_run(unhealthy, healthy, probes):
    state = HealthState(unhealthy, healthy)
    expected, run = True, 0
    for ok in probes:
        run = 0 if ok == expected else run + 1
        changed = run == (healthy if ok else unhealthy)
        if changed:
            expected, run = ok, 0
        assert state.on_probe(ok) == (ok if changed else None)
        assert state.healthy is expected
