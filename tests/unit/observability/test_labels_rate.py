"""Label caps and the sliding token rate (fake clock)."""

from __future__ import annotations

import pytest

from inferlane.observability.labels import LabelCap, status_class
from inferlane.observability.token_rate import TokenRate


def test_cap_keeps_the_first_values_and_folds_the_rest_into_other():
    cap = LabelCap(2)
    assert [cap(v) for v in ["a", "b", "c", "a", None, ""]] == ["a", "b", "other", "a", "-", "-"]


@pytest.mark.parametrize(
    ("status", "code"), [(200, "2xx"), (404, "4xx"), (503, "5xx"), (499, "4xx"), (0, "other")]
)
def test_status_class_matches_the_seed_query(status, code):
    assert status_class(status) == code


def test_rate_is_the_window_sum_over_the_window_and_decays_to_zero():
    rate = TokenRate(window=10.0)
    rate.add(("m", "-"), 50, 100.2)
    rate.add(("m", "-"), 50, 100.7)
    rate.add(("m", "-"), 100, 105.0)
    assert dict(rate.rates(105.5)) == {("m", "-"): 20.0}
    assert dict(rate.rates(110.5)) == {("m", "-"): 10.0}
    assert dict(rate.rates(116.0)) == {("m", "-"): 0.0}
