from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from inferlane.picking.prefix_index import PrefixIndex, block_hashes
from inferlane.picking.profile import Profile, ProfileConfig, preset
from inferlane.picking.view import EndpointView, PickRequest

NOW = 500.0
# tau = 1,000 tok/s x 4 s = 4,000 in-flight prompt tokens per replica
CONFIG = ProfileConfig(prefill_tokens_per_s=1_000, ttft_budget_s=4.0, min_match_tokens=64)


def fleet(n=4, **fields):
    return [EndpointView(id=f"r{i}", models=frozenset({"m"}), signals_at=NOW, **fields) for i in range(n)]


def prompt(tenant, tokens=1_024):
    ids = [hash((tenant, i)) % 50_000 for i in range(tokens)]
    return PickRequest(model="m", prompt_hashes=block_hashes(ids, 16), prompt_tokens=tokens)


def send(views, chosen, request):
    """What the shell does after a pick: count the prompt in flight on the chosen replica."""
    return [
        dataclasses.replace(
            v, in_flight=v.in_flight + 1, in_flight_tokens=v.in_flight_tokens + request.prompt_tokens
        )
        if v.id == chosen
        else v
        for v in views
    ]


def with_question(tenant, question, tokens=1_024, extra=128):
    ids = [hash((tenant, i)) % 50_000 for i in range(tokens)] + [hash((question, i)) for i in range(extra)]
    return PickRequest(model="m", prompt_hashes=block_hashes(ids, 16), prompt_tokens=tokens + extra)


@pytest.mark.parametrize(
    ("warm_pending", "others_pending", "expect_warm"),
    [
        (0, 0, True),  # idle: the cached prefix wins
        (600, 0, True),  # a short queue in front beats prefilling 1,152 tokens elsewhere
        (1_100, 0, False),  # the queue in front is longer than a cold prefill: spill
        (1_100, 2_000, True),  # ... unless the others are busier still
        (3_990, 3_000, True),  # still under the 4,000-token limit and the fastest
        (4_100, 9_000, True),  # every replica saturated: fail open, the warm one is still fastest
    ],
)
def test_sticky_while_it_is_the_fastest_way_to_a_first_token(warm_pending, others_pending, expect_warm):
    index = PrefixIndex(block_size=16)
    index.record("r2", with_question("tenant-a", "earlier").prompt_hashes)
    views = [dataclasses.replace(v, in_flight_tokens=others_pending) for v in fleet()]
    views[2] = dataclasses.replace(views[2], in_flight_tokens=warm_pending)
    result = Profile(CONFIG, index).pick(views, with_question("tenant-a", "now"), NOW, random.Random(0))
    assert (result.endpoint_id == "r2") is expect_warm
    assert result.sticky is expect_warm


def test_a_saturated_warm_replica_is_skipped_for_a_fast_enough_one():
    index = PrefixIndex(block_size=16)
    request = with_question("tenant-a", "now")
    index.record("r1", request.prompt_hashes)
    index.record("r2", request.prompt_hashes)
    views = fleet()
    views[1] = dataclasses.replace(views[1], in_flight_tokens=4_500)  # over the limit
    views[2] = dataclasses.replace(views[2], in_flight_tokens=900)
    result = Profile(CONFIG, index).pick(views, request, NOW, random.Random(0))
    assert (result.endpoint_id, result.sticky, result.fail_open) == ("r2", True, False)


def test_a_hot_prefix_spreads_over_warm_replicas_as_their_queues_grow():
    """Pending prefill is never released here (every request still prefilling): the prefix spills to a
    second replica, and then the two warm replicas share it while the cold ones stay free."""
    index = PrefixIndex(block_size=16)
    profile = Profile(CONFIG, index)
    rng = random.Random(1)
    views = fleet()
    chosen = []
    for i in range(12):
        request = with_question("tenant-a", f"q{i}", extra=16)
        result = profile.pick(views, request, NOW, rng)
        assert result.endpoint_id is not None
        uncached = request.prompt_tokens - result.matched_blocks * 16
        index.record(result.endpoint_id, request.prompt_hashes)
        views = [
            dataclasses.replace(v, in_flight_tokens=v.in_flight_tokens + uncached)
            if v.id == result.endpoint_id
            else v
            for v in views
        ]
        chosen.append(result.endpoint_id)
    first = chosen[0]
    assert chosen[1] == first  # a 16-token question behind one pending prefill: stay
    assert len(set(chosen)) >= 2  # spilled once the queue in front outgrew a cold prefill
    assert Counter(chosen).most_common(1)[0][1] >= 4


def test_warm_replica_with_room_wins_over_idle_cold_ones():
    index = PrefixIndex(block_size=16)
    request = prompt("tenant-a")
    index.record("r2", request.prompt_hashes)
    views = fleet()
    views[2] = dataclasses.replace(views[2], in_flight=6, in_flight_tokens=500, queue_depth=2, kv_usage=0.5)
    result = Profile(CONFIG, index).pick(views, request, NOW, random.Random(0))
    assert (result.endpoint_id, result.sticky, result.matched_blocks) == ("r2", True, 64)


def test_cold_requests_go_to_the_least_loaded():
    views = fleet(in_flight=2)
    loads = [2_000, 300, 900, 1_500]
    views = [dataclasses.replace(v, in_flight_tokens=t) for v, t in zip(views, loads, strict=True)]
    profile = Profile(CONFIG, PrefixIndex())
    result = profile.pick(views, prompt("cold"), NOW, random.Random(0))
    assert (result.endpoint_id, result.sticky, result.matched_blocks) == ("r1", False, 0)
    assert max(result.scores, key=result.scores.__getitem__) == "r1"


def test_ties_are_spread_at_random():
    profile = Profile(CONFIG, PrefixIndex())
    rng = random.Random(3)
    counts = Counter(profile.pick(fleet(), prompt("x"), NOW, rng).endpoint_id for _ in range(2_000))
    assert set(counts) == {"r0", "r1", "r2", "r3"} and min(counts.values()) > 400


def test_saturation_fails_open_and_the_detector_reports_it():
    index = PrefixIndex(block_size=16)
    request = prompt("tenant-a")
    index.record("r1", request.prompt_hashes)
    views = fleet(in_flight_tokens=5_000)
    profile = Profile(CONFIG, index)
    result = profile.pick(views, request, NOW, random.Random(0))
    assert (result.endpoint_id, result.fail_open) == ("r1", True)  # all saturated: affinity still applies
    saturation = profile.saturation(views, request, NOW)
    assert (saturation.saturated, saturation.candidates, saturation.saturated_count) == (True, 4, 4)
    assert saturation.level == pytest.approx(1.25)
    views[3] = dataclasses.replace(views[3], in_flight_tokens=1_000)
    saturation = profile.saturation(views, request, NOW)
    assert (saturation.saturated, saturation.saturated_count, saturation.level) == (False, 3, 0.25)
    assert profile.pick(views, request, NOW, random.Random(0)).endpoint_id == "r3"


@pytest.mark.parametrize(
    ("signals_at", "expected"),
    [(NOW - 0.5, "r1"), (NOW - 5.0, "r0")],
)
def test_stale_signals_are_ignored(signals_at, expected):
    # r0 reported a full queue; r1 looks idle on scraped data but the proxy has 3 requests in flight there
    views = fleet(2, in_flight=1)
    views[0] = dataclasses.replace(views[0], queue_depth=9, kv_usage=0.95, signals_at=signals_at)
    views[1] = dataclasses.replace(views[1], in_flight=3, queue_depth=0, kv_usage=0.1, signals_at=signals_at)
    profile = Profile(CONFIG, PrefixIndex())
    assert profile.pick(views, prompt("x"), NOW, random.Random(0)).endpoint_id == expected
    saturation = profile.saturation(views, prompt("x"), NOW)
    assert saturation.saturated_count == (1 if expected == "r1" else 0)


def test_lora_requests_prefer_where_the_adapter_is_loaded():
    views = [dataclasses.replace(v, models=frozenset({"m", "sql"})) for v in fleet(3, max_loras=1)]
    views[0] = dataclasses.replace(views[0], loras_loaded=frozenset({"other"}))
    views[1] = dataclasses.replace(views[1], loras_loaded=frozenset({"sql"}), in_flight=2)
    views[2] = dataclasses.replace(views[2], max_loras=2)
    request = PickRequest(model="m", lora="sql", prompt_tokens=10)
    profile = Profile(CONFIG, PrefixIndex())
    assert profile.pick(views, request, NOW, random.Random(0)).endpoint_id == "r1"
    views[1] = dataclasses.replace(views[1], in_flight_tokens=9_000)  # the loaded one saturates
    assert profile.pick(views, request, NOW, random.Random(0)).endpoint_id == "r2"  # room to load beats full


@pytest.mark.parametrize(
    ("views", "empty_after"),
    [
        ([], "model"),
        ([EndpointView(id="a", models=frozenset({"other"}))], "model"),
        ([EndpointView(id="a", healthy=False)], "healthy"),
        ([EndpointView(id="a", sleeping=True), EndpointView(id="b", healthy=False)], "sleeping"),
    ],
)
def test_no_candidate_says_which_filter_emptied_the_set(views, empty_after):
    result = Profile(CONFIG, PrefixIndex()).pick(views, prompt("x"), NOW, random.Random(0))
    assert (result.endpoint_id, result.empty_after, result.scores) == (None, empty_after, {})


def test_sleeping_replica_gets_nothing():
    views = fleet(3)
    views[0] = dataclasses.replace(views[0], sleeping=True)
    index = PrefixIndex(block_size=16)
    index.record("r0", prompt("a").prompt_hashes)
    profile = Profile(CONFIG, index)
    rng = random.Random(0)
    assert "r0" not in {profile.pick(views, prompt("a"), NOW, rng).endpoint_id for _ in range(200)}


def test_retries_avoid_the_endpoints_already_tried():
    index = PrefixIndex(block_size=16)
    index.record("r0", prompt("a").prompt_hashes)
    profile = Profile(CONFIG, index)
    assert profile.pick(fleet(), prompt("a"), NOW, random.Random(0)).endpoint_id == "r0"
    retry = profile.pick(fleet(), prompt("a"), NOW, random.Random(0), exclude={"r0"})
    assert retry.endpoint_id in {"r1", "r2", "r3"}
    only = profile.pick(fleet(1), prompt("a"), NOW, random.Random(0), exclude={"r0"})
    assert only.endpoint_id == "r0"  # nothing else left: the same one again


def test_session_key_sticks_cold_requests():
    profile = Profile(CONFIG, PrefixIndex())
    rng = random.Random(0)
    request = PickRequest(model="m", session="user-7", prompt_tokens=10)
    assert len({profile.pick(fleet(8), request, NOW, rng).endpoint_id for _ in range(50)}) == 1


def test_presets_and_pickers():
    index = PrefixIndex(block_size=16)
    index.record("r3", prompt("a").prompt_hashes)
    views = [dataclasses.replace(v, in_flight=n) for v, n in zip(fleet(), [5, 0, 3, 9], strict=True)]
    assert (
        Profile(preset("least-request"), index).pick(views, prompt("a"), NOW, random.Random(0)).endpoint_id
        == "r1"
    )
    assert (
        Profile(preset("prefix-blend"), index).pick(views, prompt("a"), NOW, random.Random(0)).endpoint_id
        == "r3"
    )
    for picker in ("weighted-random", "power-of-two"):
        profile = Profile(dataclasses.replace(CONFIG, picker=picker), index)
        rng = random.Random(0)
        counts = Counter(profile.pick(views, prompt("b"), NOW, rng).endpoint_id for _ in range(1000))
        assert counts["r1"] == max(counts.values()) and counts["r3"] < counts["r1"]
    with pytest.raises(ValueError, match="unknown profile"):
        preset("nope")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prefill_tokens_per_s": 0}, "positive"),
        ({"affinity_ratio": 1.5}, "affinity ratio"),
        ({"scorers": (("queue", -1.0),)}, "negative"),
    ],
)
def test_bad_config_is_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        ProfileConfig(**changes)
    with pytest.raises(ValueError, match="unknown scorer"):
        Profile(ProfileConfig(scorers=(("nope", 1.0),)), PrefixIndex())


def test_limit_is_throughput_times_ttft_budget():
    assert CONFIG.limits.max_in_flight_tokens == 4_000
    assert ProfileConfig(prefill_tokens_per_s=20_480, ttft_budget_s=14).limits.max_in_flight_tokens == 286_720


def test_explain_shows_each_scorer():
    views = [dataclasses.replace(v, in_flight=n) for v, n in zip(fleet(2), [1, 0], strict=True)]
    explained = Profile(CONFIG, PrefixIndex()).explain(views, prompt("x"), NOW)
    assert explained["in-flight"] == {"r0": 0.0, "r1": 1.0}
    assert explained["prefix"] == {"r0": 1.0, "r1": 1.0}  # no preference
