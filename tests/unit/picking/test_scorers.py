from __future__ import annotations

from collections import Counter

import pytest

from inferlane.picking import scorers
from inferlane.picking.scorers import ScoreContext, SessionAffinity, make_scorer
from inferlane.picking.view import EndpointView, PickRequest

REQ = PickRequest(model="m")
CTX = ScoreContext(now=0.0, matches={})


def views(**columns):
    (n,) = {len(v) for v in columns.values()}
    return [EndpointView(id=f"e{i}", **{k: v[i] for k, v in columns.items()}) for i in range(n)]


@pytest.mark.parametrize(
    ("scorer", "column", "values", "expected"),
    [
        (scorers.in_flight_tokens, "in_flight_tokens", [0, 500, 1000], [1.0, 0.5, 0.0]),
        (scorers.in_flight_tokens, "in_flight_tokens", [7, 7, 7], None),
        (scorers.in_flight_requests, "in_flight", [4, 0, 2], [0.0, 1.0, 0.5]),
        (scorers.queue_depth, "queue_depth", [0, 10, 5], [1.0, 0.0, 0.5]),
        (scorers.queue_depth, "queue_depth", [3, None, 3], None),
        (scorers.queue_depth, "queue_depth", [0, None, 4, 2], [1.0, 0.5, 0.0, 0.5]),
        (scorers.queue_depth, "queue_depth", [0, None, 8, 8], [1.0, 1 / 3, 0.0, 0.0]),
        (scorers.queue_depth, "queue_depth", [None, None, None], None),
        (scorers.queue_depth, "queue_depth", [2, 2, 2], None),
        (scorers.kv_cache, "kv_usage", [0.0, 0.25, 1.0], [1.0, 0.75, 0.0]),
        (scorers.kv_cache, "kv_usage", [0.9, None, 0.1], [pytest.approx(0.1), 0.5, 0.9]),
        (scorers.kv_cache, "kv_usage", [None, None, None], None),
    ],
)
def test_load_scorers(scorer, column, values, expected):
    assert scorer(views(**{column: values}), REQ, CTX) == expected


def test_prefix_scores_the_cached_share_of_the_prompt():
    request = PickRequest(model="m", prompt_hashes=tuple(range(10)))
    ctx = ScoreContext(now=0.0, matches={"e0": 10, "e2": 4})
    assert scorers.prefix(views(in_flight=[0, 0, 0]), request, ctx) == [1.0, 0.0, 0.4]
    assert scorers.prefix(views(in_flight=[0, 0, 0]), request, CTX) is None
    assert scorers.prefix(views(in_flight=[0, 0, 0]), REQ, ctx) is None


def test_lora_preference_order_loaded_room_waiting_full():
    cands = [
        EndpointView(id="full", loras_loaded=frozenset({"a", "b"}), max_loras=2),
        EndpointView(
            id="waiting", loras_loaded=frozenset({"a", "b"}), loras_waiting=frozenset({"x"}), max_loras=2
        ),
        EndpointView(id="room", loras_loaded=frozenset({"a"}), max_loras=2),
        EndpointView(id="loaded", loras_loaded=frozenset({"x", "a"}), max_loras=2),
        EndpointView(id="unknown"),
    ]
    scores = scorers.lora(cands, PickRequest(model="m", lora="x"), CTX)
    assert scores == [0.0, 0.6, 0.8, 1.0, 0.8]
    ranked = [v.id for _, v in sorted(zip(scores, cands, strict=True), key=lambda p: -p[0])]
    assert ranked[:1] == ["loaded"] and ranked[-2:] == ["waiting", "full"]
    assert scorers.lora(cands, REQ, CTX) is None


def test_session_affinity_is_stable_and_spreads_sessions():
    cands = [EndpointView(id=f"pool/10.0.0.{i}:8000") for i in range(8)]
    scorer = SessionAffinity()
    winners = {}
    for s in range(800):
        scores = scorer(cands, PickRequest(model="m", session=f"s{s}"), CTX)
        assert scores is not None and sorted(scores) == [0.0] * 7 + [1.0]
        winners[s] = cands[scores.index(1.0)].id
    assert all(SessionAffinity()(cands, PickRequest(model="m", session=f"s{s}"), CTX) for s in range(5))
    counts = Counter(winners.values())
    assert len(counts) == 8 and all(60 < n < 140 for n in counts.values())
    # rendezvous: dropping one endpoint moves only the sessions it held
    survivors = cands[1:]
    for s, won in winners.items():
        scores = scorer(survivors, PickRequest(model="m", session=f"s{s}"), CTX)
        assert scores is not None
        moved_to = survivors[scores.index(1.0)].id
        assert moved_to == won or won == cands[0].id


def test_session_affinity_without_a_session_has_no_preference():
    cands = [EndpointView(id="a"), EndpointView(id="b")]
    assert SessionAffinity()(cands, REQ, CTX) is None
    assert SessionAffinity()(cands[:1], PickRequest(model="m", session="s"), CTX) is None


def test_scores_are_in_unit_range():
    cands = views(
        in_flight=[0, 9, 3], in_flight_tokens=[5, 0, 9], queue_depth=[1, None, 4], kv_usage=[0.2, 1.3, None]
    )
    request = PickRequest(model="m", lora="x", session="s", prompt_hashes=(1, 2))
    ctx = ScoreContext(now=0.0, matches={"e1": 2})
    for name in ("prefix", "in-flight-tokens", "in-flight", "queue", "kv-cache", "lora", "session"):
        scores = make_scorer(name)(cands, request, ctx)
        assert scores is not None and all(0.0 <= s <= 1.0 for s in scores), name


def test_unknown_scorer_is_an_error():
    with pytest.raises(ValueError, match="unknown scorer 'nope'"):
        make_scorer("nope")
