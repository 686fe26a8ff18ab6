"""The admission queue policy: critical first, FIFO within a band, tenant fairness, bounded size with
eviction of the least important, O(1) removal."""

from __future__ import annotations

import pytest

from inferlane.stages.admission.queue import BANDS, AdmissionQueue, Waiter


def w(band: str, tenant: str = "", priority: int = 0, name: str = "") -> Waiter:
    waiter = Waiter(BANDS[band], priority, tenant)
    waiter.handle = name
    return waiter


def drain(queue: AdmissionQueue) -> list[str]:
    out = []
    while (waiter := queue.pop()) is not None:
        out.append(waiter.handle)
    return out


def test_critical_first_then_priority_then_fifo():
    q = AdmissionQueue(10)
    for waiter in [
        w("standard", name="s1"),
        w("sheddable", name="x1"),
        w("critical", name="c1"),
        w("standard", priority=5, name="s-high"),
        w("standard", name="s2"),
        w("critical", name="c2"),
    ]:
        assert q.push(waiter) == (True, None)
    assert len(q) == 6
    assert drain(q) == ["c1", "c2", "s-high", "s1", "s2", "x1"]
    assert len(q) == 0


def test_tenant_fairness_round_robins_within_a_band():
    q = AdmissionQueue(10, fairness=True)
    for name in ["a1", "a2", "a3"]:
        q.push(w("standard", "a", name=name))
    for name in ["b1", "b2"]:
        q.push(w("standard", "b", name=name))
    q.push(w("critical", "a", name="ca"))
    assert drain(q) == ["ca", "a1", "b1", "a2", "b2", "a3"]


def test_without_fairness_one_tenant_burst_goes_first():
    q = AdmissionQueue(10)
    for name in ["a1", "a2", "b1"]:
        q.push(w("standard", name[0], name=name))
    assert drain(q) == ["a1", "a2", "b1"]


@pytest.mark.parametrize(
    ("newcomer", "accepted", "evicted"),
    [("critical", True, "x2"), ("standard", True, "x2"), ("sheddable", False, None)],
)
def test_a_full_queue_evicts_its_least_important_newest_waiter_for_a_more_important_one(
    newcomer, accepted, evicted
):
    q = AdmissionQueue(3)
    q.push(w("standard", name="s"))
    q.push(w("sheddable", name="x1"))
    q.push(w("sheddable", name="x2"))
    ok, gone = q.push(w(newcomer, name="new"))
    assert ok is accepted
    assert (gone.handle if gone else None) == evicted
    if gone:
        assert gone.state == "evicted"
    assert len(q) == 3


def test_a_full_queue_of_equals_refuses_the_newcomer():
    q = AdmissionQueue(1)
    q.push(w("critical", name="c1"))
    assert q.push(w("critical", name="c2")) == (False, None)
    assert q.push(w("standard")) == (False, None)
    assert AdmissionQueue(0).push(w("critical")) == (False, None)


def test_removed_waiters_are_skipped_and_removal_is_once():
    q = AdmissionQueue(10)
    a, b, c = w("standard", name="a"), w("standard", name="b"), w("standard", name="c")
    for waiter in (a, b, c):
        q.push(waiter)
    assert q.remove(b) and not q.remove(b)
    assert len(q) == 2
    assert drain(q) == ["a", "c"]
    assert not q.remove(a)  # already admitted
    assert a.state == "admitted" and b.state == "removed"


def test_churn_of_removed_waiters_stays_bounded():
    q = AdmissionQueue(4)
    keeper = w("standard", name="keep")
    q.push(keeper)
    for _ in range(10_000):
        waiter = w("standard")
        q.push(waiter)
        q.remove(waiter)
    assert len(q) == 1
    assert sum(len(d) for t in q._levels.values() for d in t.values()) < 200
    assert drain(q) == ["keep"]
