from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferlane.discovery.outlier import OutlierDetector, OutlierSettings


def detector(n=4, **kw) -> OutlierDetector:
    settings = {"consecutive_5xx": 3, "consecutive_local_origin_failures": 2, **kw}
    d = OutlierDetector(OutlierSettings(**settings))
    d.set_endpoints([f"e{i}" for i in range(n)])
    return d


def eject(d: OutlierDetector, endpoint: str, now: float) -> bool:
    """Three 5xx in a row; True if the last one ejected it."""
    return [d.on_5xx(endpoint, now) for _ in range(3)][-1]


def ejection_length(d: OutlierDetector, endpoint: str, since: float, step=0.5) -> float:
    now = since
    while d.is_ejected(endpoint, now):
        now += step
    return now - since


@pytest.mark.parametrize(
    ("events", "ejected_after"),
    [
        (["5xx", "5xx", "5xx"], True),
        (["5xx", "5xx"], False),
        (["5xx", "5xx", "ok", "5xx", "5xx"], False),
        (["5xx", "5xx", "ok", "5xx", "5xx", "5xx"], True),
        (["local", "local"], True),
        (["local", "ok", "local"], False),
        (["5xx", "local", "5xx"], False),  # the counters are separate
        (["5xx", "5xx", "local", "5xx"], True),  # …and a local failure does not reset the 5xx run
        (["local", "5xx", "5xx", "local"], True),
    ],
)
def test_consecutive_counters(events, ejected_after):
    d = detector()
    results = []
    for event in events:
        if event == "ok":
            d.on_success("e0", 0)
        else:
            results.append((d.on_5xx if event == "5xx" else d.on_local_failure)("e0", 0))
    assert d.is_ejected("e0", 0) is ejected_after
    assert results[-1] is ejected_after, "the call that ejects says so"
    assert results.count(True) <= 1


def test_ejection_time_grows_with_repeats_and_is_capped():
    d = detector(base_ejection_time=10, max_ejection_time=25)
    lengths = []
    now = 0.0
    for _ in range(4):
        assert eject(d, "e0", now)
        length = ejection_length(d, "e0", now)
        lengths.append(length)
        now += length  # fails again the moment it comes back
    assert lengths == [10, 20, 25, 25]


def test_ejection_expires_by_time_alone():
    d = detector(base_ejection_time=10)
    eject(d, "e0", 0)
    assert d.is_ejected("e0", 9.99)
    assert d.ejected(9.99) == {"e0"}
    assert not d.is_ejected("e0", 10)
    assert d.ejected(10) == frozenset()


@pytest.mark.parametrize(
    ("healthy_for", "second_length"),
    [
        (0, 20),  # straight back in: doubled
        (9.5, 20),  # not a full interval healthy: no decay
        (10, 10),  # one interval healthy: the count decays by one
        (1000, 10),  # decays to zero, never below
    ],
)
def test_repeat_count_decays_while_healthy(healthy_for, second_length):
    d = detector(base_ejection_time=10)
    eject(d, "e0", 0)  # ejected until 10; nothing looks at it until it fails again
    again = 10 + healthy_for
    assert eject(d, "e0", again)
    assert ejection_length(d, "e0", again) == second_length


def test_decay_is_partial_after_repeated_ejections():
    d = detector(base_ejection_time=10, max_ejection_time=1000)
    now = 0.0
    for _ in range(3):  # 10, 20, 30
        eject(d, "e0", now)
        now += ejection_length(d, "e0", now)
    assert eject(d, "e0", now + 20)  # two intervals healthy: count 3 → 1, this is the 2nd
    assert ejection_length(d, "e0", now + 20) == 20


@pytest.mark.parametrize(
    ("n", "percent", "max_ejected"),
    [
        (4, 50, 2),
        (1, 50, 0),
        (2, 50, 1),
        (3, 50, 1),
        (2, 100, 2),
        (1, 100, 1),
        (10, 10, 1),
        (5, 0, 0),
        (3, 34, 1),
    ],
)
def test_max_ejection_percent_caps_ejections(n, percent, max_ejected):
    d = detector(n, max_ejection_percent=percent)
    for i in range(n):
        eject(d, f"e{i}", 0)
    assert len(d.ejected(0)) == max_ejected


def test_a_refused_ejection_happens_once_room_frees_up():
    d = detector(2, max_ejection_percent=50, base_ejection_time=10)
    assert eject(d, "e0", 0)
    assert not eject(d, "e1", 1), "the cap refuses: e1 keeps serving"
    assert not d.is_ejected("e1", 1)
    assert d.on_5xx("e1", 10), "e0 is back, so e1's next failure ejects it"


def test_results_while_ejected_do_not_count():
    d = detector(base_ejection_time=10)
    eject(d, "e0", 0)
    assert not any(d.on_5xx("e0", 5) for _ in range(5)), "stragglers from before the ejection"
    assert not d.on_5xx("e0", 10)
    assert not d.on_5xx("e0", 10)
    assert d.on_5xx("e0", 10), "a fresh run of three after it came back"


def test_membership_changes_keep_or_forget_state():
    d = detector(3, max_ejection_percent=100)
    eject(d, "e0", 0)
    d.on_5xx("e1", 0)
    d.on_5xx("e1", 0)
    d.set_endpoints(["e0", "e1", "e9"])
    assert d.is_ejected("e0", 1), "an endpoint that stays keeps its ejection"
    assert d.on_5xx("e1", 1), "…and its counters"
    d.set_endpoints(["e1", "e9"])
    assert not d.is_ejected("e0", 1)
    assert not d.on_5xx("gone", 1)
    assert not d.on_local_failure("gone", 1)
    d.on_success("gone", 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"consecutive_5xx": 0},
        {"consecutive_local_origin_failures": 0},
        {"base_ejection_time": -1},
        {"max_ejection_percent": 101},
        {"max_ejection_percent": -1},
    ],
)
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="outlier detection"):
        OutlierSettings(**kwargs)


@given(
    n=st.integers(min_value=1, max_value=6),
    percent=st.integers(min_value=0, max_value=100),
    events=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["5xx", "local", "ok"]), st.floats(0, 5)), max_size=150
    ),
)
def test_ejections_never_exceed_the_cap(n, percent, events):
    d = detector(n, max_ejection_percent=percent, base_ejection_time=3, max_ejection_time=20)
    cap = n * percent // 100
    now = 0.0
    for index, event, step in events:
        now += step
        endpoint = f"e{index % n}"
        if event == "ok":
            d.on_success(endpoint, now)
        else:
            (d.on_5xx if event == "5xx" else d.on_local_failure)(endpoint, now)
        assert len(d.ejected(now)) <= cap
        if n == 1 and percent < 100:
            assert not d.ejected(now), "a pool of one is never emptied by ejection alone"
