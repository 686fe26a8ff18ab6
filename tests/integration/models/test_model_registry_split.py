"""The model registry and traffic split over real loopback upstreams (FakeUpstream)."""

from __future__ import annotations

import json
from collections import Counter

import openai
import pytest

from inferlane.config.schema import ProxyConfig
from support.proxy import proxy_config


def _registry(**model):
    base = {
        "name": "qwen-chat",
        "aliases": ["gpt-4o", "qwen*"],
        "versions": [
            {"version": "2.5", "backend": "stable", "weight": 90, "servedName": "Qwen/Qwen2.5-32B-Instruct"},
            {"version": "2.6", "backend": "canary", "weight": 10, "servedName": "Qwen/Qwen2.6-32B-Instruct"},
        ],
    }
    base.update(model)
    return [base]


async def _pair(upstreams, proxies, models, **sections):
    stable, canary = await upstreams(name="stable"), await upstreams(name="canary")
    config = proxy_config({"stable": [stable.url], "canary": [canary.url]}, models=models, **sections)
    return stable, canary, await proxies(config)


async def _chat(http, proxy, model="qwen-chat", headers=None, **body):
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    async with http.post(proxy.url + "/v1/chat/completions", json=payload, headers=headers or {}) as resp:
        return resp.status, resp.headers, await resp.json()


async def test_alias_resolves_and_the_served_name_reaches_the_model_server(upstreams, proxies, http) -> None:
    stable, canary, proxy = await _pair(upstreams, proxies, _registry())
    status, headers, body = await _chat(http, proxy, "gpt-4o", headers={"x-user-id": "alice"})
    assert status == 200
    assert headers["x-inferlane-model"] == "qwen-chat"
    seen = (stable.requests + canary.requests)[-1]
    sent = json.loads(seen.body)
    version = headers["x-inferlane-version"]
    served = {"2.5": "Qwen/Qwen2.5-32B-Instruct", "2.6": "Qwen/Qwen2.6-32B-Instruct"}[version]
    assert sent["model"] == served
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert body["upstream"] == {"2.5": "stable", "2.6": "canary"}[version]


async def test_wildcard_alias_resolves(upstreams, proxies, http) -> None:
    _, _, proxy = await _pair(upstreams, proxies, _registry())
    status, headers, _ = await _chat(http, proxy, "qwen3-anything")
    assert status == 200 and headers["x-inferlane-model"] == "qwen-chat"


async def test_body_is_forwarded_untouched_when_nothing_changes(upstreams, proxies, http) -> None:
    models = [{"name": "m", "versions": [{"version": "1", "backend": "stable"}]}]
    stable, _, proxy = await _pair(upstreams, proxies, models)
    raw = b'{"model":"m",  "messages":[{"role":"user","content":"hi"}]}'
    headers = {"content-type": "application/json"}
    async with http.post(proxy.url + "/v1/chat/completions", data=raw, headers=headers) as resp:
        assert resp.status == 200 and resp.headers["x-inferlane-version"] == "1"
    assert stable.requests[-1].body == raw


async def test_unknown_model_is_404_with_the_closest_names(upstreams, proxies, http) -> None:
    stable, canary, proxy = await _pair(upstreams, proxies, _registry())
    status, _, body = await _chat(http, proxy, "gpt-4")
    assert status == 404
    assert body["error"]["code"] == "model_not_found"
    assert body["error"]["message"].startswith("model not found in registry: gpt-4 ")
    assert "gpt-4o" in body["error"]["message"]
    assert not stable.requests and not canary.requests


async def test_v1_models_lists_the_registry(upstreams, proxies, http) -> None:
    stable, _, proxy = await _pair(upstreams, proxies, _registry())
    async with http.get(proxy.url + "/v1/models") as resp:
        assert resp.status == 200
        listing = await resp.json()
    assert listing["object"] == "list"
    assert {card["id"] for card in listing["data"]} == {"qwen-chat", "gpt-4o"}
    assert not stable.requests


async def test_openai_client_lists_and_retrieves_models(upstreams, proxies, http) -> None:
    _, _, proxy = await _pair(upstreams, proxies, _registry())
    async with openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="x", max_retries=0) as client:
        assert {model.id async for model in client.models.list()} == {"qwen-chat", "gpt-4o"}
        card = await client.models.retrieve("qwen3-coder")  # a wildcard alias
        assert card.id == "qwen3-coder" and card.model_extra["root"] == "qwen-chat"
        with pytest.raises(openai.NotFoundError, match="model not found in registry: llama"):
            await client.models.retrieve("llama")


async def test_without_a_registry_model_names_pass_through(upstreams, proxies, http) -> None:
    up = await upstreams()
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    status, headers, _ = await _chat(http, proxy, "anything-goes")
    assert status == 200 and "x-inferlane-model" not in headers
    async with http.get(proxy.url + "/v1/models") as resp:
        assert (await resp.json())["path"] == "/v1/models"  # the upstream answered


async def test_split_is_sticky_per_user_and_weighted_across_users(upstreams, proxies, http) -> None:
    models = _registry()
    models[0]["versions"][0]["weight"] = 50
    models[0]["versions"][1]["weight"] = 50
    *_, proxy = await _pair(upstreams, proxies, models)
    for user in ("alice", "bob", "carol"):
        seen = {
            (await _chat(http, proxy, headers={"x-user-id": user}))[1]["x-inferlane-version"]
            for _ in range(8)
        }
        assert len(seen) == 1
    versions = Counter()
    for i in range(60):
        _, headers, _ = await _chat(http, proxy, user=f"user-{i}")  # the body's `user` field is a key too
        versions[headers["x-inferlane-version"]] += 1
    assert versions["2.5"] > 10 and versions["2.6"] > 10


async def test_experiment_header_pins_the_version(upstreams, proxies, http) -> None:
    models = _registry(experiment={"header": "x-experiment", "variants": {"treatment-a": "2.6"}})
    models[0]["versions"][1]["weight"] = 0
    *_, proxy = await _pair(upstreams, proxies, models)
    for _ in range(5):
        _, headers, body = await _chat(http, proxy, headers={"x-experiment": "treatment-a"})
        assert headers["x-inferlane-version"] == "2.6" and body["upstream"] == "canary"
    _, headers, body = await _chat(http, proxy, headers={"x-experiment": "unknown-arm"})
    assert headers["x-inferlane-version"] == "2.5" and body["upstream"] == "stable"


async def test_live_weights_override_config_without_a_reload(upstreams, proxies, http) -> None:
    *_, proxy = await _pair(upstreams, proxies, _registry())
    proxy.app.overrides.set("qwen-chat", {"2.5": 0, "2.6": 100})
    for i in range(10):
        _, _, body = await _chat(http, proxy, user=f"u{i}")
        assert body["upstream"] == "canary"
    proxy.app.overrides.clear("qwen-chat")
    upstreams_hit = Counter([(await _chat(http, proxy, user=f"v{i}"))[2]["upstream"] for i in range(30)])
    assert upstreams_hit["stable"] > upstreams_hit["canary"]


async def test_max_tokens_cap_and_allowed_endpoints(upstreams, proxies, http) -> None:
    models = _registry(defaults={"maxTokens": 64, "allowedEndpoints": ["/v1/chat/completions"]})
    stable, canary, proxy = await _pair(upstreams, proxies, models)
    await _chat(http, proxy, max_tokens=4096)
    assert json.loads((stable.requests + canary.requests)[-1].body)["max_tokens"] == 64
    await _chat(http, proxy)
    assert json.loads((stable.requests + canary.requests)[-1].body)["max_tokens"] == 64
    await _chat(http, proxy, max_tokens=10)
    assert json.loads((stable.requests + canary.requests)[-1].body)["max_tokens"] == 10
    payload = {"model": "qwen-chat", "input": "hi"}
    async with http.post(proxy.url + "/v1/embeddings", json=payload) as resp:
        assert resp.status == 400
        assert "not served on /v1/embeddings" in (await resp.json())["error"]["message"]


async def test_registry_backends_work_without_a_default_backend(upstreams, proxies, http) -> None:
    """Two backends and no default: requests for registered models still find theirs."""
    _, _, proxy = await _pair(upstreams, proxies, _registry())
    status, _, _ = await _chat(http, proxy)
    assert status == 200
    async with http.post(proxy.url + "/v1/other", data=b"x") as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "no_healthy_upstream"


async def test_a_reload_changes_weights_and_users_move_only_into_the_canary(upstreams, proxies, http) -> None:
    _, _, proxy = await _pair(upstreams, proxies, _registry())
    users = [f"user-{i}" for i in range(40)]
    before = {
        u: (await _chat(http, proxy, headers={"x-user-id": u}))[1]["x-inferlane-version"] for u in users
    }
    config = proxy.app.config.model_dump(by_alias=True)
    config["models"][0]["versions"][0]["weight"] = 50
    config["models"][0]["versions"][1]["weight"] = 50
    assert await proxy.app.reload(ProxyConfig.model_validate(config))
    after = {u: (await _chat(http, proxy, headers={"x-user-id": u}))[1]["x-inferlane-version"] for u in users}
    moved = {u for u in users if before[u] != after[u]}
    assert moved and all(before[u] == "2.5" and after[u] == "2.6" for u in moved)
