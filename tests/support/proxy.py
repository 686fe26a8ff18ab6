"""Run a real Inferlane App on ephemeral loopback ports inside the test's event loop."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from inferlane.config.load import parse_config
from inferlane.observability.access_log import AccessLog
from inferlane.server.app import App


@dataclass
class RunningProxy:
    app: App
    log: io.BytesIO

    @property
    def url(self) -> str:
        assert self.app.listeners is not None
        return f"http://127.0.0.1:{self.app.listeners.port}"

    @property
    def admin_url(self) -> str:
        assert self.app.listeners is not None
        return f"http://127.0.0.1:{self.app.listeners.admin_port}"

    def access_lines(self) -> list[str]:
        return [line for line in self.log.getvalue().decode().splitlines() if line]


def proxy_config(urls: Mapping[str, list[str]], **sections: Any) -> dict[str, Any]:
    """A config dict on ephemeral ports with fast drain, for the given backends."""
    server = {"host": "127.0.0.1", "port": 0, "adminHost": "127.0.0.1", "adminPort": 0, "drainDelay": "0s"}
    server.update(sections.pop("server", {}))
    config: dict[str, Any] = {
        "server": server,
        "backends": [{"name": name, "endpoints": endpoints} for name, endpoints in urls.items()],
        "healthCheck": {"enabled": False},
    }
    config.update(sections)
    return config


async def start_proxy(config: dict[str, Any], config_path: str | None = None) -> RunningProxy:
    log = io.BytesIO()
    app = App(
        parse_config(yaml.safe_dump(config)), config_path=config_path, access_log=AccessLog(log), seed=7
    )
    await app.start()
    return RunningProxy(app, log)
