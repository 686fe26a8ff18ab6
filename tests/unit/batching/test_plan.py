"""Which requests batch and with which settings: path → protocol, settings layering, notes for operators."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferlane.config.load import load_config, parse_config
from inferlane.config.problems import ConfigError
from inferlane.observability.metrics import ProxyMetrics
from inferlane.stages.batching.plan import (
    batching_notes,
    model_from_path,
    plan_from,
    protocol_for_path,
)
from inferlane.stages.batching.stage import build_batching

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed-proxy.yaml"


@pytest.mark.parametrize(
    ("path", "protocol"),
    [
        ("/v1/embeddings", "openai-embeddings"),
        ("/embeddings?x=1", "openai-embeddings"),
        ("/v1/completions", "openai-completions"),
        ("/v1/chat/completions", None),
        ("/embed", "tei-embed"),
        ("/rerank", "tei-rerank"),
        ("/v1/models/clf:predict", "tfserving"),
        ("/v1/models/clf/versions/3:predict", "tfserving"),
        ("/v2/models/tab/infer", "kserve-v2"),
        ("/v2/models/tab/versions/2/infer", "kserve-v2"),
        ("/v2/models/tab/ready", None),
        ("/generate", None),
    ],
)
def test_the_path_tells_the_protocol(path: str, protocol: str | None) -> None:
    assert protocol_for_path(path) == protocol


def test_tf_serving_and_kserve_paths_name_the_model_and_version() -> None:
    assert model_from_path("/v1/models/clf/versions/3:predict") == ("clf", "3")
    assert model_from_path("/v2/models/tab/infer") == ("tab", None)
    assert model_from_path("/v1/embeddings") == (None, None)


def _config(**batching: Any) -> Any:
    text = {
        "backends": [{"name": "b", "endpoints": ["http://127.0.0.1:1"], "engine": "vllm"}],
        "batching": {"enabled": True, **batching},
        "routing": {
            "endpoints": [
                {"path": "/v1/embeddings", "backend": "b", "batchEnabled": True, "maxBatchSize": 64},
                {"path": "/v1/completions", "backend": "b", "batchEnabled": True},
                {"path": "/score", "backend": "b"},
            ]
        },
    }
    return parse_config(yaml.safe_dump(text))


def test_settings_layer_section_then_route_then_model() -> None:
    config = _config(
        maxBatchSize=16,
        maxWaitTimeMs=10,
        preferredBatchSizes=[8, 32, 128],
        models=[
            {"name": "bge-*", "maxWaitTimeMs": 2, "strategy": "adaptive"},
            {"name": "off", "enabled": False},
        ],
    )
    plan = plan_from(config)
    assert plan is not None
    assert set(plan.routes) == {"/v1/embeddings", "/v1/completions"}
    route = plan.routes["/v1/embeddings"]
    base = plan.settings(route, "minilm")
    assert base is not None
    assert (base.max_batch_size, base.max_wait, base.preferred_batch_sizes) == (64, 0.01, (8, 32))
    tuned = plan.settings(route, "bge-small")
    assert tuned is not None
    assert (tuned.max_batch_size, tuned.max_wait, tuned.strategy) == (64, 0.002, "adaptive")
    assert plan.settings(route, "off") is None
    assert plan.routes["/v1/completions"].continuous_engine
    section = plan.settings(plan.routes["/v1/completions"], None)
    assert section is not None
    assert section.preferred_batch_sizes == (8,)


def test_nothing_batches_without_the_switch_or_a_route() -> None:
    assert plan_from(_config(enabled=False)) is None


def test_the_seed_file_loads_and_explains_its_chat_route(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(SEED)
    notes = batching_notes(config)
    assert len(notes) == 1
    assert "route /v1/chat/completions" in notes[0]
    assert "batches them continuously itself" in notes[0]
    with caplog.at_level(logging.WARNING, logger="inferlane.batching"):
        stage = build_batching(config, ProxyMetrics())
    assert stage is not None
    assert "chat completions are never merged" in caplog.text
    plan = plan_from(config)
    assert plan is not None
    embeddings = plan.settings(plan.routes["/v1/embeddings"], "embedding")
    assert embeddings is not None
    assert (embeddings.max_batch_size, embeddings.max_wait) == (64, 0.05)


def test_notes_for_completions_to_continuous_engines_and_unknown_paths() -> None:
    notes = batching_notes(_config())
    assert any("completions to a vllm backend are never merged" in note for note in notes)
    assert batching_notes(_config(enabled=False)) == [
        "routes set batchEnabled but batching.enabled is false: nothing is batched"
    ]


@pytest.mark.parametrize(
    "batching",
    [
        {"minWaitTimeMs": 20, "maxWaitTimeMs": 10},
        {"models": [{"name": "m", "minWaitTimeMs": 80}]},
        {"itemTimeout": "0s"},
        {"models": [{"name": "m", "colour": "red"}]},
    ],
)
def test_inconsistent_batching_settings_are_rejected(batching: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        _config(**batching)


def test_check_config_explains_the_seed_chat_route(capsys: pytest.CaptureFixture[str]) -> None:
    from inferlane.cli.main import main

    assert main(["check-config", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert (
        "route /v1/chat/completions: batchEnabled is accepted, but chat completions are never merged" in out
    )
