"""The shadowed-route check is sound: whenever it says route A covers route B, every request B matches,
A matches too (so a config is never rejected for a route that could still be reached)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from inferlane.config.schema import RouteConfig
from inferlane.stages.route.compile import compile_route
from inferlane.stages.route.policy import RequestFacts

PATHS = ["/v1/", "/v1/chat/", "/v1/chat/completions", "/v1/completions", "/v2/models/x"]
VALUES = ["chat", "chat-2", "c", "team-a", "team-b"]
MODELS = ["qwen2.5-7b", "qwen2.5-72b", "qwen-canary", "llama", "q"]
GLOBS = ["qwen*", "qwen2*", "qwen2.5-7b", "*-canary", "*", "q?", "llama"]

header_match = st.one_of(
    st.builds(lambda v: {"exact": v}, st.sampled_from(VALUES)),
    st.builds(lambda v: {"prefix": v}, st.sampled_from(["c", "chat", "team-", ""])),
    st.builds(lambda v: {"regex": v}, st.sampled_from(["chat.*", "c|chat", "team-[ab]", ".*"])),
    st.builds(lambda v: {"present": v}, st.booleans()),
)
body_match = st.one_of(
    st.builds(lambda v: {"equals": v}, st.sampled_from(["gold", 1, 1.0, True, None])),
    st.builds(lambda v: {"present": v}, st.booleans()),
)
bounds = st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(1, 60))).filter(
    lambda b: b[1] is None or b[1] > b[0]
)


@st.composite
def routes(draw: st.DrawFn) -> dict[str, Any]:
    route: dict[str, Any] = {}
    path = draw(st.sampled_from([None, "path", "pathPrefix"]))
    if path is not None:
        route[path] = draw(st.sampled_from(PATHS))
    if draw(st.booleans()):
        route["methods"] = draw(st.lists(st.sampled_from(["GET", "POST"]), min_size=1, unique=True))
    route["headers"] = draw(st.dictionaries(st.sampled_from(["x-a", "x-b"]), header_match, max_size=2))
    if draw(st.booleans()):
        route["models"] = draw(st.lists(st.sampled_from(GLOBS), min_size=1, max_size=2, unique=True))
    route["body"] = draw(st.dictionaries(st.sampled_from(["tier", "meta.n"]), body_match, max_size=2))
    if draw(st.booleans()):
        low, high = draw(bounds)
        route["promptTokens"] = {"min": low, **({"max": high} if high is not None else {})}
    return route


def request_pool(count: int = 600) -> list[tuple[RequestFacts, int | None]]:
    """A fixed, seeded pool of requests over the same small alphabets as the routes."""
    rng = random.Random(5)
    pool = []
    for _ in range(count):
        headers = {name: rng.choice(VALUES) for name in ("x-a", "x-b") if rng.random() < 0.6}
        body: dict[str, Any] = {}
        if rng.random() < 0.6:
            body["tier"] = rng.choice(["gold", "silver", 1, True, None])
        if rng.random() < 0.5:
            body["meta"] = {"n": rng.choice([1, 1.0, True, "1"])} if rng.random() < 0.7 else {}
        facts = RequestFacts(
            rng.choice(["GET", "POST"]),
            rng.choice([*PATHS, "/v1/chat/completions/x", "/other"]),
            CIMultiDict(headers),
            rng.choice([None, *MODELS]),
            body,
        )
        pool.append((facts, rng.choice([None, *range(70)])))
    return pool


POOL = request_pool()


def matches(route: Any, facts: RequestFacts, tokens: int | None) -> bool:
    matcher = route.matcher
    if not matcher.matches_before_tokens(facts):
        return False
    return matcher.tokens is None or (tokens is not None and matcher.tokens.matches(tokens))


def narrowed(first: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``first`` with more conditions from ``extra``: usually a route ``first`` covers."""
    out = {**extra, **first}
    if "path" in first or "pathPrefix" in first:
        out.pop("pathPrefix" if "path" in first else "path", None)
    out["headers"] = {**extra.get("headers", {}), **first.get("headers", {})}
    out["body"] = {**extra.get("body", {}), **first.get("body", {})}
    return out


@settings(max_examples=400, deadline=None)
@given(routes(), routes(), st.booleans())
def test_covers_is_sound(first: dict[str, Any], other: dict[str, Any], narrow: bool) -> None:
    second = narrowed(first, other) if narrow else other
    a = compile_route(RouteConfig.model_validate(first), "b")
    b = compile_route(RouteConfig.model_validate(second), "b")
    if not a.matcher.covers(b.matcher):
        return
    for facts, tokens in POOL:
        if matches(b, facts, tokens):
            assert matches(a, facts, tokens), (first, second, facts, tokens)


def test_covers_is_not_vacuous() -> None:
    """The property above exercises real coverage: these pairs are covered."""
    pairs = [
        ({"pathPrefix": "/v1/"}, {"path": "/v1/chat/completions", "headers": {"x-a": {"exact": "chat"}}}),
        ({"headers": {"x-a": {"regex": "c|chat"}}}, {"headers": {"x-a": {"exact": "chat"}}}),
        ({"models": ["qwen*"]}, {"models": ["qwen2*", "qwen2.5-7b"]}),
        ({"promptTokens": {"min": 10}}, {"promptTokens": {"min": 20, "max": 30}}),
        ({"body": {"tier": {"present": True}}}, {"body": {"tier": {"equals": None}}}),
    ]
    for first, second in pairs:
        a = compile_route(RouteConfig.model_validate(first), "b")
        b = compile_route(RouteConfig.model_validate(second), "b")
        assert a.matcher.covers(b.matcher), (first, second)
