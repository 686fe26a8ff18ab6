"""The proxies compared by the overhead benchmark: how to start each one in front of an upstream.

Each start function returns the argv and any files it needs; the caller pins it to the proxy core.
Optional comparators (haproxy, vllm-router, LiteLLM) are skipped when not installed (bench/setup.sh).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".work" / "bench"
LITELLM_KEY = "sk-bench-master"


@dataclass(frozen=True)
class ProxyPath:
    name: str
    argv: Callable[[int, int, Path], list[str] | None]  # (listen port, upstream port, scratch dir)
    env: dict[str, str] | None = None
    auth: str | None = None


def _inferlane(access_log: bool) -> Callable[[int, int, Path], list[str]]:
    def argv(port: int, upstream: int, scratch: Path) -> list[str]:
        config = {
            "server": {
                "host": "127.0.0.1",
                "port": port,
                "adminHost": "127.0.0.1",
                "adminPort": port + 1000,
                "drainDelay": "0s",
            },
            "routing": {"defaultEndpoint": f"http://127.0.0.1:{upstream}"},
            "healthCheck": {"enabled": False},
            "logging": {"accessLog": access_log, "level": "warning"},
        }
        path = scratch / f"inferlane-{port}.yaml"
        path.write_text(yaml.safe_dump(config))
        return [sys.executable, "-m", "inferlane", "proxy", "--config", str(path)]

    return argv


def _floor(port: int, upstream: int, scratch: Path) -> list[str]:
    return [sys.executable, "-m", "bench.floor", str(port), f"http://127.0.0.1:{upstream}"]


def _haproxy(port: int, upstream: int, scratch: Path) -> list[str] | None:
    binary = shutil.which("haproxy")
    if binary is None:
        return None
    config = scratch / f"haproxy-{port}.cfg"
    config.write_text(
        "global\n  nbthread 1\n  maxconn 4000\n"
        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 120s\n  timeout server 120s\n"
        "  http-reuse safe\n  option http-no-delay\n"
        f"frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n"
        f"backend b\n  server s1 127.0.0.1:{upstream}\n"
    )
    return [binary, "-f", str(config)]


def _vllm_router(port: int, upstream: int, scratch: Path) -> list[str] | None:
    binary = WORK / "venv-router" / "bin" / "vllm-router"
    if not binary.exists():
        return None
    return [
        str(binary),
        "--worker-urls",
        f"http://127.0.0.1:{upstream}",
        "--policy",
        "round_robin",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def _litellm(port: int, upstream: int, scratch: Path) -> list[str] | None:
    binary = WORK / "venv-litellm" / "bin" / "litellm"
    if not binary.exists():
        return None
    config = {
        "model_list": [
            {
                "model_name": "bench",
                "litellm_params": {
                    "model": "openai/bench",
                    "api_base": f"http://127.0.0.1:{upstream}/v1",
                    "api_key": "sk-upstream",
                },
            }
        ],
        "litellm_settings": {"num_retries": 0, "set_verbose": False},
        "general_settings": {"master_key": LITELLM_KEY},
    }
    path = scratch / f"litellm-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    return [
        str(binary),
        "--config",
        str(path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]


LITELLM_ENV = {
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_LOG": "ERROR",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "NO_PROXY": "127.0.0.1",
}

PATHS = [
    ProxyPath("inferlane", _inferlane(False)),
    ProxyPath("inferlane+accesslog", _inferlane(True)),
    ProxyPath("aiohttp-floor", _floor),
    ProxyPath("haproxy", _haproxy),
    ProxyPath("vllm-router", _vllm_router),
    ProxyPath("litellm", _litellm, env=LITELLM_ENV, auth=LITELLM_KEY),
]


def environment(path: ProxyPath) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(path.env or {})
    return env
