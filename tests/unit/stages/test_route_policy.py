from __future__ import annotations

import pytest

from inferlane.config.schema import ProxyConfig
from inferlane.stages.route.policy import match, routes_from

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
    table, default = routes_from(CONFIG)
    chosen = match(table, default, path, model)
    assert (chosen.name, chosen.backend) == (route, backend)
