"""The registry of stage types. The composition root registers the built-in ones; later capabilities
add theirs with an order number, and the server never changes.

Canonical order (lower runs first). Decide: auth 100, rate-limit 200, route 300, split 400, admission 500.
Interceptors (first = outermost): metrics 100, translate 150, cache 200, mirror 250, fallback 300,
retry 400, batching 500, breaker 600, timeout 700.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from inferlane.config.schema import ProxyConfig
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.contract import Decide, Interceptor
from inferlane.stages.split.weights import WeightOverrides
from inferlane.upstream.backend import Backend

Spawn = Callable[[Coroutine[Any, Any, Any], str], object]


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a stage factory may use to build its stage."""

    config: ProxyConfig
    backends: Mapping[str, Backend]
    metrics: ProxyMetrics
    rng: random.Random
    #: App-owned live state that outlives reloads (admin/rollout weight changes)
    overrides: WeightOverrides
    #: start an App-owned background task, cancelled at shutdown (``App.spawn``); ``None`` outside an App
    spawn: Spawn | None = None


Stage = Decide | Interceptor
Factory = Callable[[BuildContext], Stage | None]


@dataclass(frozen=True, slots=True)
class StageSpec:
    name: str
    kind: Literal["decide", "interceptor"]
    order: int
    factory: Factory


class StageRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, StageSpec] = {}

    def register(self, spec: StageSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"stage {spec.name!r} is already registered")
        self._specs[spec.name] = spec

    def specs(self, kind: Literal["decide", "interceptor"]) -> list[StageSpec]:
        return sorted((s for s in self._specs.values() if s.kind == kind), key=lambda s: s.order)
