"""The ``fallback`` interceptor factory: off unless some registry model lists fallbacks."""

from __future__ import annotations

from inferlane.pipeline.registry import BuildContext, Stage
from inferlane.registry.build import registry_from
from inferlane.stages.fallback.stage import FallbackStage
from inferlane.stages.split.chooser import VersionChooser


def fallback_stage(build: BuildContext) -> Stage | None:
    registry = registry_from(build.config)
    if registry is None or not any(model.fallbacks for model in registry.models):
        return None
    counter = build.metrics.fallbacks

    def on_fallback(model: str, fallback: str, reason: str) -> None:
        counter.labels(model, fallback, reason).inc()

    return FallbackStage(registry, VersionChooser(build.overrides, build.rng), on_fallback)
