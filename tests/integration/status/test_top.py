"""``inferlane top --once`` reads a running proxy's /admin/status and prints one frame."""

from __future__ import annotations

import asyncio
import socket

import pytest

from inferlane.cli.main import main
from support.proxy import proxy_config


async def test_top_once_prints_endpoints_routes_and_errors(upstreams, proxies, http, capsys) -> None:
    up = await upstreams()
    proxy = await proxies(
        proxy_config(
            {"chat": [up.url]},
            routing={"endpoints": [{"name": "chat", "path": "/v1/chat/completions", "backend": "chat"}]},
        )
    )
    for behaviour in ("ok", "status=500"):
        async with http.post(
            proxy.url + "/v1/chat/completions", json={"model": "m"}, headers={"x-test": behaviour}
        ) as response:
            await response.read()
    proxy.app.overrides.set("m", {"stable": 75, "canary": 25})

    code = await asyncio.to_thread(main, ["top", "--admin", proxy.admin_url, "--once", "--no-color"])

    assert code == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert "2 requests · 1 errors" in out
    endpoint_line = next(line for line in out.splitlines() if up.url.removeprefix("http://") in line)
    assert endpoint_line.split()[:4] == ["chat", up.url.removeprefix("http://"), "healthy", "closed"]
    assert "/v1/chat/completions" in out
    assert "stable=75  canary=25" in out
    error_line = next(line for line in out.splitlines() if " 500 " in line)
    assert "chat" in error_line


async def test_top_once_says_when_the_proxy_is_unreachable(capsys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = await asyncio.to_thread(main, ["top", "--admin", f"http://127.0.0.1:{port}", "--once"])
    assert code == 1
    assert f"cannot read http://127.0.0.1:{port}/admin/status" in capsys.readouterr().err


def test_top_rejects_a_non_positive_interval(capsys) -> None:
    assert main(["top", "--interval", "0", "--once"]) == 2
    assert "--interval must be positive" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _no_color_env(monkeypatch) -> None:
    monkeypatch.delenv("INFERLANE_ADMIN", raising=False)
