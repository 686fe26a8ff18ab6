"""The fallback interceptor with a fake upstream: order, skipping, labelling, closing what it replaces."""

from __future__ import annotations

import random

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from inferlane.errors import BadRequest, UpstreamConnectError
from inferlane.model import ProxyRequest, ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Fallback, Model, Version
from inferlane.registry.registry import Registry
from inferlane.stages.fallback.stage import FallbackStage
from inferlane.stages.split.assign import MODEL_KEY, canonical_model
from inferlane.stages.split.chooser import VersionChooser
from inferlane.stages.split.weights import WeightOverrides

ANY = frozenset({"5xx", "timeout", "circuit-open", "429"})
REGISTRY = Registry(
    [
        Model(
            "main",
            versions=(Version("1", "main-b", 1),),
            fallbacks=(Fallback("embed-only", ANY), Fallback("backup", ANY), Fallback("last", ANY)),
        ),
        Model(
            "embed-only",
            versions=(Version("1", "embed-b", 1),),
            allowed_endpoints=frozenset({"/v1/embeddings"}),
        ),
        Model("backup", versions=(Version("b", "backup-b", 1, "backup-served"),)),
        Model("last", versions=(Version("l", "last-b", 1),)),
    ]
)


def context() -> RequestContext:
    body = {"model": "main", "messages": []}
    request = ProxyRequest(
        "POST",
        "/v1/chat/completions",
        "/v1/chat/completions",
        CIMultiDictProxy(CIMultiDict()),
        orjson.dumps(body),
        "",
        0.0,
    )
    ctx = RequestContext(request, "id", 0.0, 1e12, body)
    ctx.extra[MODEL_KEY] = REGISTRY.get("main")
    ctx.backend = "main-b"
    return ctx


class Upstream:
    """Answers per backend from a script; remembers which backends were called and what was closed."""

    def __init__(self, answers: dict[str, int | Exception]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.closed: list[str] = []

    async def __call__(self, ctx: RequestContext) -> ProxyResponse:
        backend = ctx.backend or "-"
        self.calls.append(backend)
        answer = self.answers[backend]
        if isinstance(answer, Exception):
            raise answer

        async def close(backend: str = backend) -> None:
            self.closed.append(backend)

        return ProxyResponse(answer, body=orjson.dumps({"model": ctx.json["model"]}), close=close)


def stage(moves: list[tuple[str, str, str]]) -> FallbackStage:
    chooser = VersionChooser(WeightOverrides(), random.Random(0))
    return FallbackStage(REGISTRY, chooser, lambda *move: moves.append(move))


async def test_walks_the_list_skipping_models_not_served_on_the_path() -> None:
    moves: list[tuple[str, str, str]] = []
    upstream = Upstream({"main-b": 503, "backup-b": UpstreamConnectError("refused"), "last-b": 200})
    ctx = context()
    response = await stage(moves).intercept(ctx, upstream)
    assert response.status == 200
    assert upstream.calls == ["main-b", "backup-b", "last-b"]  # embed-only skipped: not on this path
    assert upstream.closed == ["main-b"]
    assert moves == [("main", "backup", "5xx"), ("main", "last", "5xx")]
    assert (ctx.fallback_from, canonical_model(ctx), ctx.version) == ("main", "last", "l")
    assert ctx.response_headers["x-inferlane-fallback-from"] == "main"


async def test_the_fallback_gets_its_served_name() -> None:
    upstream = Upstream({"main-b": 500, "backup-b": 200})
    ctx = context()
    response = await stage([]).intercept(ctx, upstream)
    assert orjson.loads(response.body) == {"model": "backup-served"}


async def test_the_last_failure_is_returned_as_it_was() -> None:
    upstream = Upstream({"main-b": 500, "backup-b": 502, "last-b": 503})
    response = await stage([]).intercept(context(), upstream)
    assert response.status == 503 and upstream.closed == ["main-b", "backup-b"]


async def test_errors_that_are_not_failures_of_the_model_propagate() -> None:
    with pytest.raises(BadRequest):
        await stage([]).intercept(context(), Upstream({"main-b": BadRequest("bad")}))


async def test_success_and_client_errors_pass_straight_through() -> None:
    for status in (200, 404):
        upstream = Upstream({"main-b": status})
        assert (await stage([]).intercept(context(), upstream)).status == status
        assert upstream.calls == ["main-b"]
