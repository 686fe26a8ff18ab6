"""Route matching: first match wins over path, method, headers, model, body fields and token ranges."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from inferlane.config.schema import ProxyConfig
from inferlane.stages.route.compile import routes_from
from inferlane.stages.route.policy import NeedTokens, RequestFacts, Route, first_match

CONFIG = ProxyConfig.model_validate(
    {
        "routing": {
            "defaultEndpoint": "http://127.0.0.1:8000",
            "endpoints": [
                {"path": "/v1/embeddings", "backend": "embed"},
                {"pathPrefix": "/v2/models/", "backend": "triton", "name": "kserve"},
                {"pathPrefix": "/v2/", "backend": "embed"},
                {"pathPrefix": "/v1/", "models": ["qwen2.5-72b*", "big"], "backend": "triton", "name": "big"},
                {"path": "/v1/chat/completions", "model": "chat"},
            ],
        },
        "backends": [
            {"name": "embed", "endpoints": ["http://127.0.0.1:8001"]},
            {"name": "triton", "endpoints": ["http://127.0.0.1:8002"]},
        ],
    }
)


def facts(path: str = "/v1/chat/completions", method: str = "POST", headers: Any = None, **kw: Any):
    return RequestFacts(method, path, CIMultiDict(headers or {}), kw.get("model"), kw.get("body"))


def decide(config: ProxyConfig, request: RequestFacts, tokens: int | None = None) -> Route:
    table, default = routes_from(config)
    found = first_match(table, default, request, {})
    if isinstance(found, NeedTokens):
        found = first_match(table, default, request, {found.tokenizer: tokens})
    assert isinstance(found, Route)
    return found


@pytest.mark.parametrize(
    ("path", "model", "route", "backend"),
    [
        ("/v1/embeddings", None, "/v1/embeddings", "embed"),
        ("/v1/embeddings/x", None, "default", "default"),
        ("/v2/models/resnet/infer", None, "kserve", "triton"),
        ("/v2/health/ready", None, "/v2/*", "embed"),
        ("/v1/chat/completions", "small", "/v1/chat/completions", "default"),
        ("/v1/chat/completions", "qwen2.5-72b-instruct", "big", "triton"),
        ("/v1/completions", "big", "big", "triton"),
        ("/v1/completions", "bigger", "default", "default"),
        ("/v1/models", None, "default", "default"),
    ],
)
def test_first_match_wins_then_default(path, model, route, backend):
    chosen = decide(CONFIG, facts(path, model=model))
    assert (chosen.name, chosen.backend) == (route, backend)


def config_with(*routes: dict[str, Any]) -> ProxyConfig:
    return ProxyConfig.model_validate(
        {"routing": {"defaultBackend": "a", "endpoints": list(routes)}, "backends": BACKENDS}
    )


BACKENDS = [{"name": n, "endpoints": [f"http://127.0.0.1:{8000 + i}"]} for i, n in enumerate("abc")]

HEADERS = config_with(
    {"name": "chat-type", "pathPrefix": "/v1/completions", "headers": {"x-model-type": {"exact": "chat"}}},
    {"name": "team", "headers": {"X-Tenant": {"prefix": "team-"}}, "methods": ["post"]},
    {"name": "debug", "headers": {"x-debug": {"regex": "on|yes"}}},
    {"name": "traced", "headers": {"traceparent": {"present": True}, "x-user": {"present": False}}},
)


@pytest.mark.parametrize(
    ("path", "method", "headers", "route"),
    [
        ("/v1/completions", "POST", {"X-Model-Type": "chat"}, "chat-type"),
        ("/v1/completions", "POST", {"x-model-type": "chatty"}, "default"),
        ("/v1/chat/completions", "POST", {"x-model-type": "chat"}, "default"),
        ("/v1/x", "POST", {"x-tenant": "team-red"}, "team"),
        ("/v1/x", "GET", {"x-tenant": "team-red"}, "default"),
        ("/v1/x", "POST", {"x-tenant": "red-team"}, "default"),
        ("/v1/x", "GET", {"x-debug": "yes"}, "debug"),
        ("/v1/x", "GET", {"x-debug": "yes please"}, "default"),
        ("/v1/x", "GET", {"traceparent": "00-1"}, "traced"),
        ("/v1/x", "GET", {"traceparent": "00-1", "x-user": "u"}, "default"),
    ],
)
def test_header_and_method_conditions(path, method, headers, route):
    assert decide(HEADERS, facts(path, method, headers)).name == route


BODY = config_with(
    {"name": "gold", "body": {"metadata.tier": {"equals": "gold"}}},
    {"name": "first-system", "body": {"messages.0.role": {"equals": "system"}}},
    {"name": "tools", "body": {"tools": {"present": True}, "stream": {"equals": True}}},
    {"name": "one", "body": {"n": {"equals": 1}}},
)


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ({"metadata": {"tier": "gold"}}, "gold"),
        ({"metadata": {"tier": "silver"}}, "default"),
        ({"metadata": "gold"}, "default"),
        ({"messages": [{"role": "system"}, {"role": "user"}]}, "first-system"),
        ({"messages": [{"role": "user"}]}, "default"),
        ({"tools": [], "stream": True}, "tools"),
        ({"tools": [], "stream": 1}, "default"),
        ({"n": 1.0}, "one"),
        ({"n": True}, "default"),
        (None, "default"),
    ],
)
def test_body_field_conditions(body, route):
    assert decide(BODY, facts(body=body)).name == route


SEED = config_with(
    {"name": "small", "pathPrefix": "/v1", "promptTokens": {"max": 1000}, "backend": "a"},
    {"name": "medium", "pathPrefix": "/v1", "promptTokens": {"min": 1000, "max": 8000}, "backend": "b"},
    {"name": "large", "pathPrefix": "/v1", "promptTokens": {"min": 8000}, "backend": "c"},
)


@pytest.mark.parametrize(
    ("tokens", "route", "label"),
    [
        (0, "small", "small"),
        (999, "small", "small"),
        (1000, "medium", "medium"),
        (7999, "medium", "medium"),
        (8000, "large", "large"),
        (9000, "large", "large"),
        (None, "default", "-"),
    ],
)
def test_seed_token_ranges(tokens, route, label):
    chosen = decide(SEED, facts(model="m", body={"prompt": "x"}), tokens)
    assert (chosen.name, chosen.token_range) == (route, label)


def test_tokens_are_asked_for_only_when_a_token_route_is_reached():
    config = config_with(
        {"name": "embed", "path": "/v1/embeddings", "backend": "b"},
        {"name": "large", "promptTokens": {"min": 8000, "name": "L", "tokenizer": None}, "backend": "c"},
    )
    table, default = routes_from(config)
    embeddings = first_match(table, default, facts("/v1/embeddings"), {})
    assert isinstance(embeddings, Route) and embeddings.name == "embed"
    assert first_match(table, default, facts("/v1/completions"), {}) == NeedTokens(None, 1)
    counted = first_match(table, default, facts("/v1/completions"), {None: 9000})
    assert isinstance(counted, Route) and counted.token_range == "L"
