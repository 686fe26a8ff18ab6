"""SIGTERM drains a real `inferlane proxy` process: not ready at once, in-flight work finishes, exit 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sigterm_drains_in_flight_streams_then_exits_zero(upstreams, http, tmp_path):
    up = await upstreams(default="stream=40")
    up.stream_gap = 0.02
    port, admin = free_port(), free_port()
    config = {
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "adminHost": "127.0.0.1",
            "adminPort": admin,
            "drainDelay": "200ms",
            "drainTimeout": "20s",
        },
        "routing": {"defaultEndpoint": up.url},
        "healthCheck": {"enabled": False},
        "logging": {"accessLog": False},
    }
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inferlane",
        "proxy",
        "--config",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(500):
            try:
                async with http.get(f"http://127.0.0.1:{admin}/ready") as resp:
                    if resp.status == 200:
                        break
            except OSError:
                await asyncio.sleep(0.02)
        body = {"model": "m", "messages": [], "stream": True}
        resp = await http.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body)
        first = await resp.content.readline()
        assert first.startswith(b"data: ")
        os.kill(proc.pid, signal.SIGTERM)
        for _ in range(100):
            async with http.get(f"http://127.0.0.1:{admin}/ready") as ready:
                if ready.status == 503:
                    break
            await asyncio.sleep(0.01)
        assert ready.status == 503
        rest = await resp.read()
        assert rest.endswith(b"data: [DONE]\n\n")
        assert rest.count(b"chat.completion.chunk") == 39
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sighup_or_file_change_reloads_a_running_process(upstreams, http, tmp_path):
    a, b = await upstreams(name="a"), await upstreams(name="b")
    port, admin = free_port(), free_port()
    config = {
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "adminHost": "127.0.0.1",
            "adminPort": admin,
            "drainDelay": "0s",
        },
        "backends": [{"name": "a", "endpoints": [a.url]}, {"name": "b", "endpoints": [b.url]}],
        "routing": {"defaultBackend": "a"},
        "healthCheck": {"enabled": False},
        "logging": {"accessLog": False},
    }
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inferlane",
        "proxy",
        "--config",
        str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(500):
            try:
                async with http.get(f"http://127.0.0.1:{admin}/ready") as resp:
                    if resp.status == 200:
                        break
            except OSError:
                await asyncio.sleep(0.02)
        config["routing"]["defaultBackend"] = "b"
        path.write_text(yaml.safe_dump(config))
        os.kill(proc.pid, signal.SIGHUP)
        for _ in range(200):
            async with http.get(f"http://127.0.0.1:{admin}/admin/state") as resp:
                if (await resp.json())["generation"] >= 2:
                    break
            await asyncio.sleep(0.02)
        body = {"model": "m", "messages": []}
        async with http.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body) as resp:
            assert (await resp.json())["upstream"] == "b"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
