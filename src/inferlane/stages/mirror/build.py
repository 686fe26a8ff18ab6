"""The ``mirror`` interceptor factory: off unless some registry model has a mirror."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from inferlane.pipeline.registry import BuildContext, Stage
from inferlane.registry.build import registry_from
from inferlane.stages.mirror.stage import MirrorStage


def mirror_stage(build: BuildContext) -> Stage | None:
    registry = registry_from(build.config)
    if registry is None or not any(model.mirror is not None for model in registry.models):
        return None
    metrics = build.metrics

    def on_result(model: str, result: str, seconds: float | None) -> None:
        metrics.mirror_requests.labels(model, result).inc()
        if seconds is not None:
            metrics.mirror_duration.labels(model).observe(seconds)

    return MirrorStage(build.backends, build.rng, build.spawn or _TaskSet().spawn, on_result)


class _TaskSet:
    """Owner of shadow tasks when the pipeline is built outside an App (tests, tools)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
