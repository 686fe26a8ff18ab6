"""Build a pipeline from config: backends (reusing unchanged ones across reloads), then stages."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from inferlane.config.schema import ProxyConfig
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.chain import Pipeline
from inferlane.pipeline.contract import Decide, Interceptor
from inferlane.pipeline.registry import BuildContext, Spawn, StageRegistry
from inferlane.stages.split.weights import WeightOverrides
from inferlane.upstream.backend import Backend
from inferlane.upstream.call import UpstreamCall


def build_backends(
    config: ProxyConfig,
    previous: Mapping[str, Backend],
    clock: Callable[[], float],
    rng: random.Random,
    metrics: ProxyMetrics,
) -> dict[str, Backend]:
    """One Backend per configured backend; an unchanged one is kept with its connections and state."""
    backends: dict[str, Backend] = {}
    for backend_config in config.all_backends():
        breaker = backend_config.circuit_breaker or config.circuit_breaker
        health = backend_config.health_check or config.health_check
        old = previous.get(backend_config.name)
        if old is not None and old.fingerprint == (backend_config, breaker, health):
            backends[old.name] = old
            continue
        backend = Backend(backend_config, breaker, health, clock, rng)
        name = backend.name
        backend.pool.on_result = lambda state, result, name=name: metrics.record_attempt(name, state, result)
        if metrics.observer is not None:
            metrics.observer.watch_backend(backend)
        backend.pool.on_pick = lambda state, kind, name=name: metrics.record_pick(name, state, kind)
        backends[name] = backend
    return backends


def build_pipeline(
    config: ProxyConfig,
    registry: StageRegistry,
    backends: Mapping[str, Backend],
    metrics: ProxyMetrics,
    rng: random.Random,
    generation: int,
    overrides: WeightOverrides,
    spawn: Spawn | None = None,
) -> Pipeline:
    build = BuildContext(
        config=config, backends=backends, metrics=metrics, rng=rng, overrides=overrides, spawn=spawn
    )
    decides: list[Decide] = []
    for spec in registry.specs("decide"):
        stage = spec.factory(build)
        if stage is not None:
            decides.append(stage)  # type: ignore[arg-type]
    interceptors: list[Interceptor] = []
    for spec in registry.specs("interceptor"):
        stage = spec.factory(build)
        if stage is not None:
            interceptors.append(stage)  # type: ignore[arg-type]
    return Pipeline(
        config, decides, interceptors, UpstreamCall(backends, config.admin.token), backends, generation
    )
