"""Registry name resolution: canonical names, aliases, wildcards, suggestions and the /v1/models list."""

from __future__ import annotations

import orjson

from inferlane.config.load import parse_config
from inferlane.registry.build import known_versions
from inferlane.registry.model import Model, Version
from inferlane.registry.registry import Registry

REGISTRY = Registry(
    [
        Model("qwen2.5-72b", aliases=("gpt-4o", "qwen*"), versions=(Version("1", "big", 1),)),
        Model("qwen2.5-7b", versions=(Version("stable", "a", 9), Version("canary", "b", 1))),
        Model("bge-small", aliases=("text-embedding-3-small",)),
    ],
    created=123,
)


def test_names_resolve_exactly_then_by_alias_then_by_wildcard() -> None:
    assert REGISTRY.resolve("qwen2.5-7b").name == "qwen2.5-7b"  # exact beats the wildcard
    assert REGISTRY.resolve("gpt-4o").name == "qwen2.5-72b"
    assert REGISTRY.resolve("qwen3-coder").name == "qwen2.5-72b"
    assert REGISTRY.resolve("llama-3") is None
    assert REGISTRY.resolve("llama-3") is None  # cached miss stays a miss


def test_versions_of_lists_versions_in_config_order() -> None:
    assert REGISTRY.versions_of("qwen2.5-7b") == ["stable", "canary"]
    assert REGISTRY.versions_of("gpt-4o") == ["1"]
    assert REGISTRY.versions_of("bge-small") == []
    assert REGISTRY.versions_of("nope") == []


def test_suggestions_are_the_closest_known_names() -> None:
    assert REGISTRY.suggestions("gpt-4") == ["gpt-4o"]
    assert "qwen2.5-7b" in REGISTRY.suggestions("qwen2.5-8b")
    assert REGISTRY.suggestions("zzzz") == []


def test_listing_is_the_openai_list_shape_with_aliases() -> None:
    listing = orjson.loads(REGISTRY.listing)
    assert listing["object"] == "list"
    ids = {card["id"]: card for card in listing["data"]}
    assert set(ids) == {"qwen2.5-72b", "gpt-4o", "qwen2.5-7b", "bge-small", "text-embedding-3-small"}
    assert ids["gpt-4o"]["root"] == "qwen2.5-72b"
    assert ids["gpt-4o"]["object"] == "model" and ids["gpt-4o"]["created"] == 123


def test_known_versions_for_weight_changes_use_canonical_names() -> None:
    text = """
backends: [{name: a, endpoints: ["http://a:1"]}]
models:
  - name: chat
    aliases: [gpt-4o]
    versions: [{version: v1, backend: a}, {version: v2, backend: a}]
"""
    config = parse_config(text)
    assert known_versions(config, "chat") == ["v1", "v2"]
    assert known_versions(config, "gpt-4o") == []
    assert known_versions(parse_config("backends: [{name: a, endpoints: ['http://a:1']}]"), "chat") is None
