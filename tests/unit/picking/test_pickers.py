from __future__ import annotations

import random
from collections import Counter

import pytest

from inferlane.picking.pickers import make_picker, max_score, power_of_two, weighted_random

DRAWS = 6000


def frequencies(picker, scores, seed=11):
    rng = random.Random(seed)
    counts = Counter(picker(scores, rng) for _ in range(DRAWS))
    return [counts[i] / DRAWS for i in range(len(scores))]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([0.1, 0.9, 0.5], 1), ([3.0], 0), ([0.0, 0.0, 2.0], 2)],
)
def test_max_score_picks_the_best(scores, expected):
    assert max_score(scores, random.Random(0)) == expected


def test_max_score_breaks_ties_uniformly():
    freq = frequencies(max_score, [1.0, 0.2, 1.0, 1.0 - 1e-12])
    assert freq[1] == 0.0
    assert all(abs(freq[i] - 1 / 3) < 0.03 for i in (0, 2, 3))


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([1.0, 2.0, 1.0], [0.25, 0.5, 0.25]), ([0.0, 3.0, 1.0], [0.0, 0.75, 0.25]), ([0.0, 0.0], [0.5, 0.5])],
)
def test_weighted_random_is_proportional(scores, expected):
    freq = frequencies(weighted_random, scores)
    assert all(abs(f - e) < 0.03 for f, e in zip(freq, expected, strict=True))


def test_power_of_two_never_picks_the_worst_and_favours_the_best():
    # rank r (0 = best) of n wins when drawn with a worse one: P = 2(n-1-r) / (n(n-1))
    scores = [0.4, 0.9, 0.1, 0.6]
    freq = frequencies(power_of_two, scores)
    expected = {1: 6 / 12, 3: 4 / 12, 0: 2 / 12, 2: 0.0}
    assert all(abs(freq[i] - p) < 0.03 for i, p in expected.items())


def test_power_of_two_ties_are_a_coin_flip():
    assert all(abs(f - 0.5) < 0.03 for f in frequencies(power_of_two, [1.0, 1.0]))
    assert power_of_two([5.0], random.Random(0)) == 0


def test_pickers_are_deterministic_for_a_seed():
    for name in ("max-score", "weighted-random", "power-of-two"):
        picker = make_picker(name)
        scores = [0.5, 0.5, 0.3, 0.5]
        assert frequencies(picker, scores, seed=5) == frequencies(picker, scores, seed=5)


@pytest.mark.parametrize("picker", [max_score, weighted_random, power_of_two])
def test_no_candidates_is_an_error(picker):
    with pytest.raises(ValueError, match="no candidates"):
        picker([], random.Random(0))


def test_unknown_picker_is_an_error():
    with pytest.raises(ValueError, match="unknown picker"):
        make_picker("round-robin")
