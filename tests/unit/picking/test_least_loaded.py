from __future__ import annotations

import random
from collections import Counter

import pytest

from inferlane.picking.least_loaded import least_loaded


@pytest.mark.parametrize(
    ("loads", "expected"),
    [([3, 1, 2], "b"), ([0, 5, 5], "a"), ([7, 7, 0], "c")],
)
def test_picks_the_least_loaded(loads, expected):
    assert least_loaded(["a", "b", "c"], loads, random.Random(1)) == expected


def test_ties_are_broken_uniformly():
    rng = random.Random(42)
    counts = Counter(least_loaded(["a", "b", "c", "d"], [1, 0, 0, 0], rng) for _ in range(3000))
    assert set(counts) == {"b", "c", "d"}
    assert all(900 < n < 1100 for n in counts.values())


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="no candidates"):
        least_loaded([], [], random.Random(0))
