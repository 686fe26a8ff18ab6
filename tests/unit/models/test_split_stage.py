"""The split stage on a bare context: which names it checks, what it rewrites, what it leaves alone."""

from __future__ import annotations

import random

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from inferlane.errors import ModelBackendNotAllowed, ModelNotFound
from inferlane.model import ProxyRequest
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model, Version
from inferlane.registry.registry import Registry
from inferlane.stages.split.assign import canonical_model
from inferlane.stages.split.chooser import VersionChooser
from inferlane.stages.split.stage import SplitStage
from inferlane.stages.split.weights import WeightOverrides

REGISTRY = Registry(
    [
        Model("m", aliases=("alias",), versions=(Version("1", "b1", 1, "served-m"),), max_tokens=100),
        Model("pinned", allowed_backends=frozenset({"gpu-a"})),
    ]
)


def stage() -> SplitStage:
    return SplitStage(REGISTRY, VersionChooser(WeightOverrides(), random.Random(0)))


def context(body: dict, path: str = "/v1/chat/completions", method: str = "POST") -> RequestContext:
    raw = orjson.dumps(body)
    request = ProxyRequest(method, path, path, CIMultiDictProxy(CIMultiDict()), raw, "127.0.0.1", 0.0)
    return RequestContext(request, "id", 0.0, 60.0, body)


async def test_alias_is_pointed_at_the_version_and_rewritten_once() -> None:
    ctx = context({"model": "alias", "max_tokens": 500, "messages": []})
    assert await stage().decide(ctx) is None
    assert (ctx.model, ctx.version, ctx.backend) == ("served-m", "1", "b1")
    assert orjson.loads(ctx.body) == {"model": "served-m", "max_tokens": 100, "messages": []}
    assert ctx.json == orjson.loads(ctx.body)
    assert canonical_model(ctx) == "m" and ctx.requested_model == "alias"


async def test_unknown_requested_name_is_404() -> None:
    with pytest.raises(ModelNotFound, match="model not found in registry: alia "):
        await stage().decide(context({"model": "alia"}))


async def test_a_name_a_route_rewrote_to_is_left_to_the_route() -> None:
    ctx = context({"model": "client-name"})
    ctx.model = "operator-chosen"  # what a route's model rewrite does
    ctx.backend = "route-backend"
    assert await stage().decide(ctx) is None
    assert ctx.backend == "route-backend" and ctx.version is None and canonical_model(ctx) is None


async def test_requests_without_a_model_pass() -> None:
    ctx = context({"instances": [[1.0]]}, path="/v1/models/resnet:predict")
    assert await stage().decide(ctx) is None and ctx.body == b'{"instances":[[1.0]]}'


async def test_models_listing_is_answered_locally() -> None:
    answer = await stage().decide(context({}, path="/v1/models", method="GET"))
    assert answer is not None and answer.status == 200
    assert [card["id"] for card in orjson.loads(answer.body)["data"]] == ["m", "pinned", "alias"]


async def test_an_unversioned_model_on_a_backend_it_may_not_use_is_refused() -> None:
    ctx = context({"model": "pinned"})
    ctx.backend = "gpu-a"
    assert await stage().decide(ctx) is None
    ctx = context({"model": "pinned"})
    ctx.backend = "cpu-b"
    with pytest.raises(ModelBackendNotAllowed, match="not served by backend 'cpu-b'"):
        await stage().decide(ctx)


async def test_a_model_card_is_answered_when_no_explicit_route_took_the_path() -> None:
    ctx = context({}, path="/v1/models/alias", method="GET")
    ctx.route = "default"
    answer = await stage().decide(ctx)
    assert answer is not None and orjson.loads(answer.body)["root"] == "m"
    ctx = context({}, path="/v1/models/nope", method="GET")
    ctx.route = "default"
    with pytest.raises(ModelNotFound):
        await stage().decide(ctx)
    for path, route in (("/v1/models/alias", "tfserving"), ("/v1/models/resnet:predict", "default")):
        ctx = context({}, path=path, method="GET")
        ctx.route = route
        assert await stage().decide(ctx) is None
