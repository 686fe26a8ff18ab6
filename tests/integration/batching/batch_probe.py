"""Helpers shared by the batching integration tests."""

from __future__ import annotations

from typing import Any

from inferlane.sim import SimFleet
from support.proxy import proxy_config


def batching_config(
    backend_url: str,
    path: str,
    engine: str = "generic",
    route: dict[str, Any] | None = None,
    **batching: Any,
) -> dict[str, Any]:
    """A proxy config with one batching route on ``path`` to one backend."""
    settings = {"enabled": True, "maxBatchSize": 8, "maxWaitTimeMs": 5000, "strategy": "fixed"}
    settings.update(batching)
    config = proxy_config({"model": [backend_url]}, batching=settings)
    config["backends"][0]["engine"] = engine
    config["routing"] = {
        "endpoints": [{"path": path, "backend": "model", "batchEnabled": True, **(route or {})}]
    }
    config["retry"] = {"attempts": 0}
    return config


def device_batches(fleet: SimFleet) -> list[int]:
    """(batches, items) the simulated device ran, over all replicas."""
    stats = [replica.ctx.device.stats for replica in fleet.replicas]
    return [sum(s.batches for s in stats), sum(s.items for s in stats)]


def metric(text: str, name: str) -> float:
    """The value of one exposition line (``name`` includes its labels), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
