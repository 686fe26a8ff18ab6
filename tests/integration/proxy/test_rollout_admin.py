"""The rollout and weights admin API on a running proxy: status, commands, token guard, audit, reload."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import yaml

from inferlane.config.load import parse_config
from support.proxy import proxy_config

TOKEN = {"Authorization": "Bearer s3cret"}
MODELS = [
    {"name": "chat", "versions": [{"version": "v1"}, {"version": "v2"}]},
    {"name": "embed", "versions": [{"version": "a"}, {"version": "b"}]},
]


def rollout(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "model": "chat",
        "stableVersion": "v1",
        "canaryVersion": "v2",
        "steps": [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}],
    }
    entry.update(changes)
    return entry


async def started(upstreams, proxies, **sections: Any):
    up = await upstreams()
    sections.setdefault("admin", {"token": "s3cret"})
    sections.setdefault("rollouts", [rollout()])
    return await proxies(proxy_config({"chat": [up.url]}, models=MODELS, **sections))


async def test_status_and_commands(upstreams, proxies, http, caplog: pytest.LogCaptureFixture):
    proxy = await started(upstreams, proxies)
    admin = proxy.admin_url
    async with http.get(admin + "/admin/rollouts") as resp:
        (status,) = (await resp.json())["rollouts"]
    assert status["phase"] == "Paused" and status["weights"] == {"v1": 90, "v2": 10}
    assert (status["step"], status["stepIndex"], status["steps"]) == (2, 1, 4)
    async with http.get(admin + "/admin/state") as resp:
        (summary,) = (await resp.json())["rollouts"]  # for the status page: no per-version numbers
    assert summary["phase"] == "Paused" and "versions" not in summary["analysis"]
    assert status["message"] == "paused until promoted at step 2/4, canary 'v2' at 10%"

    with caplog.at_level(logging.INFO, logger="inferlane.admin"):
        async with http.post(admin + "/admin/rollouts/chat/promote", headers=TOKEN) as resp:
            assert resp.status == 200
            assert (await resp.json())["weights"] == {"v1": 50, "v2": 50}
    audit = [r for r in caplog.records if getattr(r, "audit", False)]
    assert [(r.action, r.model, r.previous_phase) for r in audit] == [("promote", "chat", "Paused")]

    async with http.post(admin + "/admin/rollouts/chat/abort", headers=TOKEN) as resp:
        body = await resp.json()
        assert body["phase"] == "Aborted" and body["weights"] == {"v1": 100, "v2": 0}
    async with http.post(admin + "/admin/rollouts/chat/abort", headers=TOKEN) as resp:
        assert resp.status == 409
        assert "already rolled back" in (await resp.json())["error"]["message"]
    async with http.post(admin + "/admin/rollouts/chat/resume", headers=TOKEN) as resp:
        assert (await resp.json())["weights"] == {"v1": 90, "v2": 10}
    async with http.post(admin + "/admin/rollouts/chat/promote?full=true", headers=TOKEN) as resp:
        assert (await resp.json())["phase"] == "Healthy"
    async with http.get(admin + "/admin/rollouts/chat") as resp:
        assert (await resp.json())["weights"] == {"v1": 0, "v2": 100}
    async with http.get(admin + "/metrics") as resp:
        text = await resp.text()
    assert 'inferlane_rollout_weight{model="chat",version="v2"} 100.0' in text
    assert 'inferlane_rollout_phase{model="chat",phase="Healthy"} 1.0' in text
    assert 'inferlane_rollout_rollbacks_total{model="chat",reason="aborted"} 1.0' in text


async def test_unknown_rollouts_and_methods(upstreams, proxies, http):
    proxy = await started(upstreams, proxies)
    async with http.get(proxy.admin_url + "/admin/rollouts/nope") as resp:
        assert resp.status == 404
        assert "no rollout for model 'nope' (rollouts: chat)" in (await resp.json())["error"]["message"]
    async with http.post(proxy.admin_url + "/admin/rollouts/nope/pause", headers=TOKEN) as resp:
        assert resp.status == 404
    async with http.get(proxy.admin_url + "/admin/rollouts/chat/pause") as resp:
        assert resp.status == 405


async def test_mutations_need_the_token(upstreams, proxies, http):
    proxy = await started(upstreams, proxies)
    admin = proxy.admin_url
    for method, path in [
        ("POST", "/admin/rollouts/chat/abort"),
        ("PUT", "/admin/models/chat/weights"),
        ("DELETE", "/admin/models/chat/weights"),
    ]:
        async with http.request(method, admin + path, json={"weights": {"v1": 1}}) as resp:
            assert resp.status == 401
    open_proxy = await started(upstreams, proxies, admin={})
    async with http.post(open_proxy.admin_url + "/admin/rollouts/chat/abort") as resp:
        assert resp.status == 403
    async with http.get(proxy.admin_url + "/admin/rollouts/chat") as resp:
        assert (await resp.json())["phase"] == "Paused"  # nothing changed


async def test_weights_put_validate_conflict_and_delete(upstreams, proxies, http, caplog):
    proxy = await started(upstreams, proxies, rollouts=[rollout()])
    url = proxy.admin_url + "/admin/models/"
    async with http.put(url + "chat/weights", json={"weights": {"v1": 50, "v2": 50}}, headers=TOKEN) as resp:
        assert resp.status == 409
        assert "running rollout (Paused)" in (await resp.json())["error"]["message"]
    for bad in (
        {"weights": {}},
        {"weights": {"v1": -1}},
        {"weights": {"v1": 0}},
        {"weights": {"v1": "9"}},
        {"w": 1},
    ):
        async with http.put(url + "embed/weights", json=bad, headers=TOKEN) as resp:
            assert resp.status == 400, bad
            assert "invalid weights body" in (await resp.json())["error"]["message"]
    async with http.put(url + "embed/weights", data=b"{not json", headers=TOKEN) as resp:
        assert resp.status == 400
    async with http.put(url + "embed/weights", json={"weights": {"a": 1, "z": 1}}, headers=TOKEN) as resp:
        assert resp.status == 400
        assert (
            "unknown version(s) z of model 'embed'; versions: a, b" in (await resp.json())["error"]["message"]
        )
    async with http.put(url + "nope/weights", json={"weights": {"a": 1}}, headers=TOKEN) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["message"].startswith("model not found in registry: nope")

    with caplog.at_level(logging.INFO, logger="inferlane.admin"):
        async with http.put(
            url + "embed/weights", json={"weights": {"a": 90, "b": 10}}, headers=TOKEN
        ) as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "model": "embed",
                "weights": {"a": 90, "b": 10},
                "source": "override",
                "rollout": None,
            }
    assert dict(proxy.app.overrides.get("embed")) == {"a": 90, "b": 10}
    (audit,) = [r for r in caplog.records if getattr(r, "audit", False)]
    assert audit.weights == {"a": 90, "b": 10} and audit.previous is None
    async with http.get(url + "embed/weights") as resp:
        assert (await resp.json())["weights"] == {"a": 90, "b": 10}
    async with http.delete(url + "embed/weights", headers=TOKEN) as resp:
        assert (await resp.json())["source"] == "config"
    assert proxy.app.overrides.get("embed") is None

    # a settled rollout no longer owns the weights: an operator may set them
    async with http.post(proxy.admin_url + "/admin/rollouts/chat/abort", headers=TOKEN) as resp:
        assert resp.status == 200
    async with http.put(url + "chat/weights", json={"weights": {"v1": 70, "v2": 30}}, headers=TOKEN) as resp:
        assert resp.status == 200 and (await resp.json())["rollout"] == "Aborted"


async def test_reload_keeps_rollout_state_and_removal_clears_weights(upstreams, proxies, http):
    up = await upstreams()
    config = proxy_config({"chat": [up.url]}, admin={"token": "s3cret"}, models=MODELS, rollouts=[rollout()])
    proxy = await proxies(config)
    async with http.post(proxy.admin_url + "/admin/rollouts/chat/promote", headers=TOKEN) as resp:
        assert (await resp.json())["weights"] == {"v1": 50, "v2": 50}

    assert await proxy.app.reload(parse_config(yaml.safe_dump(config)))
    async with http.get(proxy.admin_url + "/admin/rollouts/chat") as resp:
        assert (await resp.json())["weights"] == {"v1": 50, "v2": 50}
    config["rollouts"] = []
    assert await proxy.app.reload(parse_config(yaml.safe_dump(config)))
    async with http.get(proxy.admin_url + "/admin/rollouts") as resp:
        assert (await resp.json())["rollouts"] == []
    assert proxy.app.overrides.get("chat") is None


async def test_live_weight_changes_move_traffic_without_dropping_requests(upstreams, proxies, http):
    a, b = await upstreams(name="a"), await upstreams(name="b")
    models = [
        {"name": "chat", "versions": [{"version": "v1", "backend": "a"}, {"version": "v2", "backend": "b"}]}
    ]
    config = proxy_config({"a": [a.url], "b": [b.url]}, admin={"token": "s3cret"}, models=models)
    proxy = await proxies(config)
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    answered: list[tuple[int, str]] = []
    stop = asyncio.Event()

    async def client() -> None:
        while not stop.is_set():
            async with http.post(proxy.url + "/v1/chat/completions", json=body) as resp:
                await resp.read()
                answered.append((resp.status, resp.headers.get("x-inferlane-version", "-")))

    clients = [asyncio.create_task(client()) for _ in range(4)]
    url = proxy.admin_url + "/admin/models/chat/weights"
    for weights in ({"v1": 0, "v2": 100}, {"v1": 100, "v2": 0}, {"v1": 0, "v2": 1}):
        async with http.put(url, json={"weights": weights}, headers=TOKEN) as resp:
            assert resp.status == 200
        seen = len(answered)
        for _ in range(1000):  # wait for 20 more answers under these weights (bounded)
            if len(answered) >= seen + 20:
                break
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*clients)
    assert {status for status, _ in answered} == {200}
    assert all(version == "v2" for _, version in answered[-10:])
