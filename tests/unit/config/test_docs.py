"""docs/configuration.md and the schema cannot drift: every key is documented, every documented key exists,
and the examples in the document load."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from inferlane.config.load import parse_config
from inferlane.config.schema import ProxyConfig

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """``server.readTimeout``, ``backends[].connectionPool.maxConnections``, … for every field, by alias."""
    paths = []
    for name, field in model.model_fields.items():
        path = f"{prefix}.{field.alias or name}" if prefix else (field.alias or name)
        paths.append(path)
        nested = model_in(field.annotation)
        if nested is not None:
            is_list = typing.get_origin(field.annotation) is list
            paths.extend(key_paths(nested, path + ("[]" if is_list else "")))
    return paths


KEYS = key_paths(ProxyConfig)


def test_walk_finds_nested_list_and_optional_keys() -> None:
    assert "server.readTimeout" in KEYS
    assert "backends[].connectionPool.maxConnections" in KEYS
    assert "backends[].outlierDetection.consecutive5xx" in KEYS
    assert "routing.endpoints[].retry.budget.ttl" in KEYS


@pytest.mark.parametrize("key", KEYS)
def test_every_key_is_documented(key: str) -> None:
    assert f"`{key}`" in DOC, f"docs/configuration.md does not document `{key}`"


def test_every_documented_key_exists() -> None:
    documented = re.findall(r"^\| `([^`]+)` \|", DOC, flags=re.M)
    assert len(documented) > 50
    assert sorted(set(documented) - set(KEYS)) == []


def yaml_blocks_after(heading: str) -> list[str]:
    section = DOC.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


def test_seed_proxy_yaml_in_the_docs_is_the_fixture() -> None:
    (block,) = yaml_blocks_after("The seed's proxy.yaml")
    assert block == (ROOT / "tests" / "fixtures" / "seed-proxy.yaml").read_text(encoding="utf-8")


def test_complete_example_loads_and_sets_every_section() -> None:
    (block,) = yaml_blocks_after("A complete example")
    config = parse_config(block, "example", {"INFERLANE_ADMIN_TOKEN": "t0ken"})
    assert config.admin.token == "t0ken"
    assert set(config.model_fields_set) == set(ProxyConfig.model_fields)
    assert [b.name for b in config.backends] == ["chat", "chat-large", "embed"]


def test_complete_example_marks_defaults_truthfully() -> None:
    """A line marked ``# default`` sets exactly the default: drop every such line and the config is equal."""
    (block,) = yaml_blocks_after("A complete example")
    env = {"INFERLANE_ADMIN_TOKEN": "t"}
    pruned = without_empty_sections([line for line in block.splitlines() if not line.endswith("# default")])
    assert parse_config(pruned, "pruned", env) == parse_config(block, "example", env)


def without_empty_sections(lines: list[str]) -> str:
    """Drop ``key:`` lines left with nothing indented below them."""

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    kept: list[str] = []
    for line in reversed(lines):
        is_header = line.rstrip().endswith(":") and not line.lstrip().startswith("-")
        if is_header and (not kept or indent(kept[-1]) <= indent(line)):
            continue
        kept.append(line)
    return "\n".join(reversed(kept)) + "\n"


def test_loading_rules_example_loads() -> None:
    (block,) = yaml_blocks_after("Loading rules")
    config = parse_config(block, "rules", {"INFERLANE_ADMIN_TOKEN": "123456"})
    assert config.admin.token == "123456"
    assert config.server.port == 15001
    assert config.routing.default_endpoint == "http://localhost:8000"
