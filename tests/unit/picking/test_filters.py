from __future__ import annotations

import pytest

from inferlane.picking import filters
from inferlane.picking.filters import PrefixAffinity, SaturationLimits
from inferlane.picking.view import EndpointView, PickRequest

NOW = 1_000.0


def ids(views):
    return [v.id for v in views]


def test_healthy_and_awake_keep_order():
    views = [
        EndpointView(id="a"),
        EndpointView(id="b", healthy=False),
        EndpointView(id="c", sleeping=True),
        EndpointView(id="d"),
    ]
    assert ids(filters.healthy(views)) == ["a", "c", "d"]
    assert ids(filters.awake(views)) == ["a", "b", "d"]


LLAMA = frozenset({"llama", "sql-lora"})


@pytest.mark.parametrize(
    ("model", "lora", "expected"),
    [
        ("llama", None, ["listed", "loaded", "undiscovered", "plain"]),
        ("llama", "sql-lora", ["listed", "undiscovered"]),
        ("llama", "chat-lora", ["loaded", "undiscovered"]),
        (
            "llama",
            "new-lora",
            ["listed", "loaded", "undiscovered", "plain"],
        ),  # nobody lists it: load on demand
        ("mistral", None, ["undiscovered"]),
    ],
)
def test_serving_matches_model_and_adapter(model, lora, expected):
    views = [
        EndpointView(id="listed", models=LLAMA),
        EndpointView(id="loaded", models=frozenset({"llama"}), loras_loaded=frozenset({"chat-lora"})),
        EndpointView(id="undiscovered"),
        EndpointView(id="plain", models=frozenset({"llama"})),
        EndpointView(id="other", models=frozenset({"qwen"}), loras_loaded=frozenset({"sql-lora"})),
    ]
    assert ids(filters.serving(views, PickRequest(model=model, lora=lora))) == expected


def test_waiting_adapter_counts_as_served():
    views = [
        EndpointView(id="a", models=frozenset({"m"}), loras_waiting=frozenset({"x"})),
        EndpointView(id="b"),
    ]
    assert ids(filters.serving(views, PickRequest(model="m", lora="x"))) == ["a", "b"]


@pytest.mark.parametrize(
    ("exclude", "expected"),
    [((), ["a", "b", "c"]), ({"b"}, ["a", "c"]), ({"a", "b", "c"}, ["a", "b", "c"])],
)
def test_excluding_is_soft(exclude, expected):
    views = [EndpointView(id=i) for i in "abc"]
    assert ids(filters.excluding(views, exclude)) == expected


SCRAPED = {
    "queue_depth": 9,
    "kv_usage": 0.95,
    "loras_loaded": frozenset({"x"}),
    "max_loras": 1,
    "in_flight": 3,
    "in_flight_tokens": 900,
}


@pytest.mark.parametrize(
    ("signals_at", "kept"),
    [(NOW, True), (NOW - 1.0, True), (NOW - 1.01, False), (None, False)],
)
def test_stale_signals_are_ignored_and_counters_kept(signals_at, kept):
    view = EndpointView(id="a", signals_at=signals_at, num_gpu_blocks=100, **SCRAPED)
    (out,) = filters.fresh_signals([view], NOW, max_age=1.0)
    if kept:
        assert out is view
    else:
        assert (out.queue_depth, out.kv_usage, out.max_loras, out.loras_loaded) == (
            None,
            None,
            None,
            frozenset(),
        )
        assert (out.in_flight, out.in_flight_tokens, out.num_gpu_blocks) == (3, 900, 100)
        assert out.signals_at is None


def test_a_view_without_signals_is_not_copied():
    view = EndpointView(id="a", in_flight=2)
    assert filters.fresh_signals([view], NOW, 1.0)[0] is view


LIMITS = SaturationLimits(max_in_flight_tokens=1000, max_queue_depth=5, max_kv_usage=0.8)


@pytest.mark.parametrize(
    ("view", "ratio"),
    [
        (EndpointView(id="idle"), 0.0),
        (EndpointView(id="tokens", in_flight_tokens=500), 0.5),
        (EndpointView(id="tokens-full", in_flight_tokens=1000), 1.0),
        (EndpointView(id="queue", in_flight_tokens=100, queue_depth=5), 1.0),
        (EndpointView(id="kv", kv_usage=0.4, queue_depth=1), 0.5),
    ],
)
def test_saturation_ratio_is_the_tightest_limit(view, ratio):
    assert LIMITS.ratio(view) == pytest.approx(ratio)
    kept, _ = filters.not_saturated([view, EndpointView(id="spare")], LIMITS)
    assert (view in kept) == (ratio < 1.0)


def test_none_limits_are_not_checked():
    limits = SaturationLimits(max_in_flight_tokens=None, max_queue_depth=None, max_kv_usage=None)
    view = EndpointView(id="a", in_flight_tokens=10**9, queue_depth=10**6, kv_usage=1.0)
    assert limits.ratio(view) == 0.0
    assert filters.not_saturated([view], limits) == ([view], False)


def test_saturation_filter_fails_open():
    views = [EndpointView(id="a", in_flight_tokens=2000), EndpointView(id="b", queue_depth=7)]
    assert filters.not_saturated(views, LIMITS) == (views, True)
    assert filters.not_saturated([], LIMITS) == ([], False)


@pytest.mark.parametrize(
    ("matches", "expected"),
    [
        ({}, ["a", "b", "c"]),
        ({"a": 100, "b": 85, "c": 10}, ["a", "b"]),
        ({"a": 100, "b": 79}, ["a"]),
        ({"a": 10}, ["a", "b", "c"]),  # a short shared prefix does not make anyone sticky
        ({"x": 500}, ["a", "b", "c"]),  # the holder is not a candidate (saturated, unhealthy)
        ({"x": 500, "c": 40}, ["c"]),  # so the next best holder takes over
    ],
)
def test_prefix_affinity_keeps_the_warm_endpoints(matches, expected):
    views = [EndpointView(id=i) for i in "abc"]
    assert ids(PrefixAffinity(ratio=0.8, min_blocks=16)(views, matches)) == expected
