"""The traffic-split choice: proportions, stickiness, and how few users a weight change moves."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from inferlane.stages.split.policy import SplitTable, bucket, choose, sticky_key

STABLE_CANARY = ("stable", "canary")


def table(stable: int, canary: int) -> SplitTable:
    return SplitTable.of(STABLE_CANARY, {"stable": stable, "canary": canary})


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ((90, 10), {"stable": 0.90, "canary": 0.10}),
        ((50, 50), {"stable": 0.50, "canary": 0.50}),
        ((80, 20), {"stable": 0.80, "canary": 0.20}),
        ((100, 0), {"stable": 1.0}),
        ((0, 1), {"canary": 1.0}),
    ],
)
def test_random_split_lands_within_one_and_a_half_points(weights, expected) -> None:
    rng = random.Random(42)
    split = table(*weights)
    counts = Counter(choose(split, "m", None, rng).version for _ in range(10_000))
    assert set(counts) == set(expected)
    for name, share in expected.items():
        assert abs(counts[name] / 10_000 - share) <= 0.015


def test_sticky_users_spread_by_weight_too() -> None:
    split = table(90, 10)
    counts = Counter(choose(split, "m", f"user-{i}", random.Random(0)).version for i in range(10_000))
    assert abs(counts["canary"] / 10_000 - 0.10) <= 0.015


def test_a_user_keeps_their_version_across_a_thousand_requests() -> None:
    split, rng = table(90, 10), random.Random(1)
    for user in ("alice", "bob", "carol", "dave", "user-7"):
        versions = {choose(split, "m", user, rng).version for _ in range(1000)}
        assert len(versions) == 1


def test_going_from_10_to_25_percent_moves_users_only_into_the_canary() -> None:
    before, after = table(90, 10), table(75, 25)
    rng = random.Random(0)
    moves = Counter()
    for i in range(10_000):
        user = f"user-{i}"
        moves[(choose(before, "m", user, rng).version, choose(after, "m", user, rng).version)] += 1
    assert moves[("canary", "stable")] == 0
    assert 0.13 <= moves[("stable", "canary")] / 10_000 <= 0.17  # the 15 points that changed hands


def test_rolling_back_moves_users_only_out_of_the_canary() -> None:
    before, after = table(75, 25), table(100, 0)
    for i in range(2000):
        user = f"u{i}"
        if choose(before, "m", user, random.Random(0)).version == "stable":
            assert choose(after, "m", user, random.Random(0)).version == "stable"


def test_the_model_name_salts_the_hash_so_experiments_are_independent() -> None:
    users = [f"user-{i}" for i in range(2000)]
    in_canary_a = {u for u in users if bucket(u, "model-a") >= 0.9}
    in_canary_b = {u for u in users if bucket(u, "model-b") >= 0.9}
    assert len(in_canary_a & in_canary_b) < len(in_canary_a) / 2


def test_an_experiment_variant_overrides_the_weights() -> None:
    choice = choose(table(100, 0), "m", "alice", random.Random(0), variant="canary")
    assert (choice.version, choice.reason) == ("canary", "experiment")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"x-user-id": "u1"}, {"user": "body-user"}, "u1"),
        ({}, {"user": "body-user"}, "body-user"),
        ({}, {"user": 42}, "42"),
        ({"x-session-id": "s9"}, {}, "s9"),
        ({}, {"user": ""}, None),
        ({}, None, None),
    ],
)
def test_sticky_key_takes_the_first_present_source(headers, body, expected) -> None:
    sources = (("header", "x-user-id"), ("body", "user"), ("header", "x-session-id"))
    assert sticky_key(sources, headers, body) == expected


def test_a_split_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError, match="positive weight"):
        SplitTable.of(STABLE_CANARY, {"stable": 0})


def test_versions_missing_from_live_weights_get_nothing() -> None:
    split = SplitTable.of(("a", "b", "c"), {"b": 3})
    assert {split.pick(p / 100) for p in range(100)} == {"b"}


def test_with_three_versions_weight_moved_between_neighbours_moves_only_their_users() -> None:
    order = ("a", "b", "c")
    before = SplitTable.of(order, {"a": 80, "b": 10, "c": 10})
    after = SplitTable.of(order, {"a": 80, "b": 5, "c": 15})
    rng = random.Random(0)
    moves = Counter()
    for i in range(10_000):
        user = f"user-{i}"
        moves[(choose(before, "m", user, rng).version, choose(after, "m", user, rng).version)] += 1
    assert {pair for pair in moves if pair[0] != pair[1]} == {("b", "c")}
