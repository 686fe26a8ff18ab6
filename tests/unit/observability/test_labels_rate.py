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


def test_rate_compares_totals_with_the_reading_a_window_ago_and_decays_to_zero():
    rate = TokenRate(window=10.0, started=100.0)
    key = ("m", "-")
    assert rate.rates({key: 50.0}, 105.0) == {key: 10.0}  # no reading a window old yet: since start-up
    assert rate.rates({key: 150.0}, 110.0) == {key: 15.0}  # baseline: start-up (exactly one window ago)
    assert rate.rates({key: 150.0}, 115.5) == {key: 100 / 10.5}  # baseline: the reading at 105 (50)
    assert rate.rates({key: 150.0}, 121.0) == {key: 0.0}  # nothing new for a whole window


def test_frequent_readings_are_not_all_kept():
    rate = TokenRate(window=60.0, started=0.0, min_gap=1.0)
    for i in range(1000):
        rate.rates({("m", "-"): float(i)}, 1.0 + i * 0.01)
    assert len(rate._readings) <= 12
