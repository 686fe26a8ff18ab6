"""The ``split`` stage factory: off (``None``) when no registry is configured."""

from __future__ import annotations

import time
from typing import Any

from inferlane.pipeline.registry import BuildContext, Stage
from inferlane.registry.build import registry_from
from inferlane.stages.split.chooser import VersionChooser
from inferlane.stages.split.stage import SplitStage


def split_stage(build: BuildContext) -> Stage | None:
    registry = registry_from(build.config, created=int(time.time()))
    if registry is None:
        return None
    counter = build.metrics.split_decisions
    children: dict[tuple[str, str, str], Any] = {}

    def on_decision(model: str, version: str, reason: str) -> None:
        key = (model, version, reason)
        child = children.get(key)
        if child is None:
            child = children[key] = counter.labels(*key)
        child.inc()

    return SplitStage(registry, VersionChooser(build.overrides, build.rng), on_decision)
