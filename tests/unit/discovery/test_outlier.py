from __future__ import annotations

import pytest

from inferlane.discovery.outlier import OutlierDetector, OutlierSettings


def detector(n=4, **kw) -> OutlierDetector:
    d = OutlierDetector(
        OutlierSettings(**{"consecutive_5xx": 3, "consecutive_local_origin_failures": 2, **kw})
    )
    d.set_endpoints([f"e{i}" for i in range(n)])
    return d


def test_consecutive_5xx_eject_and_a_success_resets():
    d = detector()
    d.on_5xx("e0", 0)
    d.on_5xx("e0", 0)
    d.on_success("e0", 0)
    d.on_5xx("e0", 0)
    d.on_5xx("e0", 0)
    assert not d.is_ejected("e0", 0)
    assert d.on_5xx("e0", 0)
    assert d.is_ejected("e0", 1)


def test_local_origin_failures_count_separately():
    d = detector()
    d.on_5xx("e0", 0)
    d.on_local_failure("e0", 0)
    assert d.on_local_failure("e0", 0)
    assert d.ejected(0) == {"e0"}


def test_ejection_expires_and_grows_with_repeats():
    d = detector(base_ejection_time=10, max_ejection_time=25)
    for _ in range(3):
        d.on_5xx("e0", 0)
    assert d.is_ejected("e0", 9.9)
    assert not d.is_ejected("e0", 10)
    for _ in range(3):
        d.on_5xx("e0", 10)
    assert d.is_ejected("e0", 29.9)
    assert not d.is_ejected("e0", 30)
    for _ in range(3):
        d.on_5xx("e0", 30)
    assert d.is_ejected("e0", 54.9), "third ejection is capped at max_ejection_time"
    assert not d.is_ejected("e0", 55)


def test_repeat_count_decays_while_healthy():
    d = detector(base_ejection_time=10)
    for _ in range(3):
        d.on_5xx("e0", 0)
    # released at 10, healthy for 100 s: the repeat count decays back to zero
    assert not d.is_ejected("e0", 10)
    for _ in range(3):
        d.on_5xx("e0", 110)
    assert not d.is_ejected("e0", 120)


@pytest.mark.parametrize(
    ("n", "percent", "max_ejected"), [(4, 50, 2), (1, 50, 0), (3, 50, 1), (2, 100, 2), (10, 10, 1)]
)
def test_max_ejection_percent_caps_ejections(n, percent, max_ejected):
    d = detector(n, max_ejection_percent=percent)
    for i in range(n):
        for _ in range(3):
            d.on_5xx(f"e{i}", 0)
    assert len(d.ejected(0)) == max_ejected


def test_removed_endpoints_are_forgotten():
    d = detector(2)
    for _ in range(3):
        d.on_5xx("e0", 0)
    d.set_endpoints(["e1"])
    assert not d.is_ejected("e0", 0)
    assert d.on_5xx("gone", 0) is False
