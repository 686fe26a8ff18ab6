"""The ``models`` and ``modelSources`` config: validation and the seed's ModelVersion objects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from inferlane.config.load import load_config, parse_config
from inferlane.config.problems import ConfigError
from inferlane.registry.build import registry_from

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "model-versions"
BACKENDS = [
    {"name": "qwen-chat-v2-5", "endpoints": ["http://v25:8000"]},
    {"name": "qwen-canary", "endpoints": ["http://v26:8000"]},
]


def write_config(tmp_path: Path, **sections) -> Path:
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump({"backends": BACKENDS, **sections}))
    return path


def test_the_seeds_model_versions_load_unchanged(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "models")
    source = {"path": "models", "backends": {"qwen-chat-v2-6-canary": "qwen-canary"}}
    config = load_config(write_config(tmp_path, modelSources=[source]))
    registry = registry_from(config)
    assert registry is not None
    assert registry.versions_of("qwen-chat") == ["2.5", "2.6"]
    model = registry.resolve("qwen-chat")
    stable, canary = model.versions
    assert (stable.backend, stable.weight, stable.canary) == ("qwen-chat-v2-5", 80, False)
    assert (canary.backend, canary.weight, canary.canary) == ("qwen-canary", 20, True)
    assert stable.served_name == "Qwen/Qwen2.5-32B-Instruct"
    check = config.backends[0].health_check  # the ModelVersion's healthCheck, for a backend without one
    assert (check.endpoint, check.interval, check.timeout, check.unhealthy_threshold) == ("/health", 10, 5, 3)


def test_inline_settings_and_file_versions_merge(tmp_path: Path) -> None:
    source = {
        "path": str(FIXTURES / "qwen-chat.yaml"),
        "backends": {"qwen-chat-v2-6-canary": "qwen-canary"},
        "servedName": "modelName",
    }
    inline = {"name": "qwen-chat", "aliases": ["gpt-4o"], "experiment": {"variants": {"b": "2.6"}}}
    config = load_config(write_config(tmp_path, modelSources=[source], models=[inline]))
    model = registry_from(config).resolve("gpt-4o")
    assert [v.name for v in model.versions] == ["2.5", "2.6"]
    assert model.versions[0].served_name == "qwen-chat"
    assert model.variants == {"b": "2.6"}


def test_a_version_bound_to_a_missing_backend_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, modelSources=[{"path": str(FIXTURES)}]))
    assert "unknown backend 'qwen-chat-v2-6-canary'" in str(info.value)


def test_missing_source_and_bad_objects_are_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: ConfigMap\nmetadata: {name: x}\n---\n"
        "apiVersion: ai.example.com/v1\nkind: ModelVersion\nmetadata: {name: v}\n"
        "spec: {modelName: m, version: '1', routing: {wieght: 5}}\n"
    )
    sources = [{"path": "nope"}, {"path": "bad.yaml"}]
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, modelSources=sources))
    report = str(info.value)
    assert "modelSources[0].path: no such file or directory" in report
    assert f"{bad}:4: spec.routing.wieght: Extra inputs are not permitted" in report


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"name": "a", "versions": [{"version": 1, "backend": "x"}]}, "unknown backend 'x'"),
        ({"name": "a", "versions": [{"version": 1}, {"version": 1}]}, "duplicate version '1'"),
        ({"name": "a", "versions": [{"version": 1, "weight": 0}]}, "needs a weight above 0"),
        ({"name": "a", "fallbacks": [{"model": "b"}]}, "unknown model 'b'"),
        ({"name": "a", "fallbacks": [{"model": "a"}]}, "fallbacks[0].model: itself"),
        ({"name": "a", "mirror": {"version": "9"}}, "unknown version '9'"),
        ({"name": "a", "mirror": {"percent": 5}}, "exactly one of 'version' or 'backend'"),
        ({"name": "a", "experiment": {"variants": {"t": "2"}}}, "names unknown version '2'"),
        ({"name": "a", "split": {"stickyBy": ["cookie:x"]}}, "stickyBy"),
        ({"name": "a", "fallbacks": [{"model": "a", "on": ["4xx"]}]}, "fallbacks[0].on"),
        (
            {
                "name": "a",
                "versions": [{"version": 1, "backend": "qwen-canary"}],
                "defaults": {"allowedBackends": ["qwen-chat-v2-5"]},
            },
            "'qwen-canary' is not in defaults.allowedBackends",
        ),
        ({"name": "a", "defaults": {"allowedBackends": ["nope"]}}, "unknown backend 'nope'"),
    ],
)
def test_registry_mistakes_are_reported(model, message) -> None:
    text = yaml.safe_dump({"backends": BACKENDS, "models": [model]})
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_duplicate_names_across_models_are_reported() -> None:
    models = [{"name": "a", "aliases": ["gpt-4o"]}, {"name": "gpt-4o"}]
    with pytest.raises(ConfigError, match="'gpt-4o' is already a name of model 'a'"):
        parse_config(yaml.safe_dump({"backends": BACKENDS, "models": models}))
