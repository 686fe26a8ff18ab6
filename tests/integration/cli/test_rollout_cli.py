"""`inferlane rollout ...` against a running proxy's admin API."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from inferlane.cli.main import main
from support.proxy import proxy_config

ROLLOUT = {
    "model": "chat",
    "stableVersion": "v1",
    "canaryVersion": "v2",
    "steps": [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}],
}


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI off the event loop (it blocks on HTTP) so the proxy in this loop can answer."""
    code = await asyncio.to_thread(main, ["rollout", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def admin(upstreams, proxies) -> str:
    up = await upstreams()
    models = [{"name": "chat", "versions": [{"version": "v1"}, {"version": "v2"}]}]
    config = proxy_config({"chat": [up.url]}, admin={"token": "s3cret"}, models=models, rollouts=[ROLLOUT])
    proxy = await proxies(config)
    return proxy.admin_url


async def test_status_and_promote_with_token(admin: str, capsys, monkeypatch) -> None:
    code, out, _ = await cli(capsys, "status", "--admin", admin)
    assert code == 0
    assert "chat: Paused — paused until promoted at step 2/4, canary 'v2' at 10%" in out
    assert "weights: v1 90%, v2 10%   step 2/4" in out
    assert "v2: 0 requests in the window, 0.00% failed, p99 -" in out

    code, _, err = await cli(capsys, "promote", "chat", "--admin", admin)
    assert code == 1
    assert "401: missing or invalid admin token" in err and "INFERLANE_ADMIN_TOKEN" in err

    monkeypatch.setenv("INFERLANE_ADMIN_TOKEN", "s3cret")
    code, out, _ = await cli(capsys, "promote", "chat", "--admin", admin)
    assert code == 0 and "weights: v1 50%, v2 50%" in out
    code, out, _ = await cli(capsys, "pause", "chat", "--admin", admin, "--json")
    assert code == 0 and json.loads(out)["paused"] is True
    code, out, _ = await cli(capsys, "resume", "chat", "--admin", admin)
    assert code == 0 and "Paused — paused until promoted at step 4/4, canary 'v2' at 50%" in out
    code, out, _ = await cli(capsys, "abort", "chat", "--admin", admin, "--token", "s3cret")
    assert code == 0 and "Aborted — rolled back to 100% on stable 'v1': aborted by an operator" in out
    code, _, err = await cli(capsys, "abort", "chat", "--admin", admin)
    assert code == 1 and "409: rollout of chat is already rolled back" in err
    code, _, err = await cli(capsys, "promote", "chat", "--admin", admin)
    assert code == 1 and "'resume' starts it again from the first step" in err
    code, out, _ = await cli(capsys, "resume", "chat", "--admin", admin)
    assert code == 0 and "weights: v1 90%, v2 10%   step 2/4   attempt 2" in out
    code, out, _ = await cli(capsys, "promote", "chat", "--full", "--admin", admin)
    assert code == 0 and "chat: Healthy — complete: canary 'v2' takes 100% of traffic" in out


async def test_errors_are_clear(admin: str, capsys, unused_tcp_port: int) -> None:
    code, _, err = await cli(capsys, "status", "nope", "--admin", admin)
    assert code == 1 and "404: no rollout for model 'nope' (rollouts: chat)" in err
    code, _, err = await cli(capsys, "promote", "--admin", admin)
    assert code == 2 and "name the model" in err
    code, _, err = await cli(capsys, "status", "--admin", f"http://127.0.0.1:{unused_tcp_port}")
    assert code == 1 and "cannot reach the admin API" in err


async def test_the_installed_command_lists_rollouts(admin: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inferlane",
        "rollout",
        "status",
        "--admin",
        admin,
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert [r["model"] for r in json.loads(out)["rollouts"]] == ["chat"]


async def test_wait_follows_the_rollout_and_exits_by_phase(admin: str, capsys, upstreams, proxies) -> None:
    code, out, _ = await cli(capsys, "status", "chat", "--admin", admin, "--wait", "--every", "50ms")
    assert code == 3 and out.startswith("chat: Paused — paused until promoted")
    await cli(capsys, "promote", "chat", "--full", "--admin", admin, "--token", "s3cret")
    code, out, _ = await cli(capsys, "status", "chat", "--admin", admin, "--wait")
    assert code == 0 and "Healthy" in out
    await cli(capsys, "abort", "chat", "--admin", admin, "--token", "s3cret")
    code, _, _ = await cli(capsys, "status", "chat", "--admin", admin, "--wait")
    assert code == 1

    up = await upstreams()
    models = [{"name": "chat", "versions": [{"version": "v1"}, {"version": "v2"}]}]
    slow = {**ROLLOUT, "steps": [{"setWeight": 10}, {"pause": {"duration": "10m"}}]}
    other = await proxies(proxy_config({"chat": [up.url]}, models=models, rollouts=[slow]))
    code, out, err = await cli(
        capsys,
        "status",
        "chat",
        "--admin",
        other.admin_url,
        "--wait",
        "--timeout",
        "200ms",
        "--every",
        "50ms",
    )
    assert code == 2 and out.count("chat: Progressing") == 1 and "still Progressing after 0.2s" in err
