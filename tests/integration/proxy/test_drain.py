"""SIGTERM drains a real `inferlane proxy` process: not ready at once, in-flight work finishes, exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator

import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_section(**extra: str) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": free_port(),
        "adminHost": "127.0.0.1",
        "adminPort": free_port(),
        **extra,
    }


def proc_config(config: dict[str, object]) -> dict[str, object]:
    return {"healthCheck": {"enabled": False}, "logging": {"accessLog": False}, **config}


@contextlib.asynccontextmanager
async def proxy_process(http, tmp_path, config) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real `inferlane proxy` process on the config, yielded once /ready answers 200."""
    config = proc_config(config)
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    with (tmp_path / "proxy.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "inferlane", "proxy", "--config", str(path), stdout=log, stderr=log
        )
        try:
            admin = config["server"]["adminPort"]  # type: ignore[index]
            for _ in range(500):
                try:
                    async with http.get(f"http://127.0.0.1:{admin}/ready") as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    await asyncio.sleep(0.02)
            yield proc
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_sigterm_drains_in_flight_streams_then_exits_zero(upstreams, http, tmp_path):
    up = await upstreams(default="stream=40")
    up.stream_gap = 0.02
    server = server_section(drainDelay="200ms", drainTimeout="20s")
    config = {"server": server, "routing": {"defaultEndpoint": up.url}}
    async with proxy_process(http, tmp_path, config) as proc:
        body = {"model": "m", "messages": [], "stream": True}
        resp = await http.post(f"http://127.0.0.1:{server['port']}/v1/chat/completions", json=body)
        first = await resp.content.readline()
        assert first.startswith(b"data: ")
        os.kill(proc.pid, signal.SIGTERM)
        for _ in range(100):
            async with http.get(f"http://127.0.0.1:{server['adminPort']}/ready") as ready:
                if ready.status == 503:
                    break
            await asyncio.sleep(0.01)
        assert ready.status == 503
        rest = await resp.read()
        assert rest.endswith(b"data: [DONE]\n\n")
        assert rest.count(b"chat.completion.chunk") == 39
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0


async def test_sighup_or_file_change_reloads_a_running_process(upstreams, http, tmp_path):
    a, b = await upstreams(name="a"), await upstreams(name="b")
    server = server_section(drainDelay="0s")
    config = {
        "server": server,
        "backends": [{"name": "a", "endpoints": [a.url]}, {"name": "b", "endpoints": [b.url]}],
        "routing": {"defaultBackend": "a"},
    }
    async with proxy_process(http, tmp_path, config) as proc:
        config["routing"]["defaultBackend"] = "b"
        (tmp_path / "proxy.yaml").write_text(yaml.safe_dump(proc_config(config)))
        os.kill(proc.pid, signal.SIGHUP)
        for _ in range(200):
            async with http.get(f"http://127.0.0.1:{server['adminPort']}/admin/state") as resp:
                if (await resp.json())["generation"] >= 2:
                    break
            await asyncio.sleep(0.02)
        body = {"model": "m", "messages": []}
        async with http.post(f"http://127.0.0.1:{server['port']}/v1/chat/completions", json=body) as resp:
            assert (await resp.json())["upstream"] == "b"
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
