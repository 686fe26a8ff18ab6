"""Which requests batch, with which settings (pure: config in, lookups out).

A request batches when ``batching.enabled`` is on, its route has ``batchEnabled``, its wire protocol has a
merger (``batchProtocol`` on the route, else told by the path), and — for text generation — its backend's
engine does not batch continuously by itself. Settings layer, last wins: the ``batching`` section, the
route's ``maxBatchSize``, the first ``batching.models[]`` entry whose pattern matches the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from inferlane.config.batching import BatchingConfig, BatchModelOverride, BatchProtocol
from inferlane.config.schema import ProxyConfig, RouteConfig
from inferlane.stages.batching.policy import BatchSettings

#: engines that batch generation requests continuously on their own: merging them gains nothing
CONTINUOUS_ENGINES = frozenset({"vllm", "sglang", "tgi"})
GENERATION = frozenset({"openai-completions"})

_V2 = re.compile(r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?/infer$")
_TF = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?:predict$")


def protocol_for_path(path: str) -> BatchProtocol | None:
    """The merger a path speaks, or ``None`` (chat completions and anything unknown are never merged)."""
    path = path.partition("?")[0]
    if path.endswith("/chat/completions"):
        return None
    if path.endswith("/embeddings"):
        return "openai-embeddings"
    if path.endswith("/completions"):
        return "openai-completions"
    if path.endswith("/embed"):
        return "tei-embed"
    if path.endswith("/rerank"):
        return "tei-rerank"
    if path.endswith(":predict"):
        return "tfserving"
    if _V2.match(path):
        return "kserve-v2"
    return None


def model_from_path(path: str) -> tuple[str | None, str | None]:
    """``(model, version)`` named by a TF Serving or KServe v2 path; ``(None, None)`` otherwise."""
    path = path.partition("?")[0]
    found = _V2.match(path) or _TF.match(path)
    if found is None:
        return None, None
    return found["name"], found["version"]


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A batching route: its settings before per-model overrides, and what it may merge."""

    name: str
    base: BatchSettings
    protocol: BatchProtocol | None
    continuous_engine: bool


@dataclass(slots=True)
class BatchPlan:
    routes: Mapping[str, RoutePlan]
    overrides: tuple[BatchModelOverride, ...]
    max_request_tokens: int
    max_queue_size: int
    item_timeout: float | None
    _cache: dict[tuple[str, str | None], BatchSettings | None] = field(default_factory=dict)

    def settings(self, route: RoutePlan, model: str | None) -> BatchSettings | None:
        """The settings for this route and model; ``None`` when a model override turns batching off."""
        key = (route.name, model)
        if key not in self._cache:
            override = next(
                (o for o in self.overrides if model is not None and fnmatchcase(model, o.name)), None
            )
            self._cache[key] = route.base if override is None else _apply(route.base, override)
        return self._cache[key]


def settings_from(config: BatchingConfig, max_batch_size: int | None = None) -> BatchSettings:
    size = max_batch_size or config.max_batch_size
    return _settings(
        size,
        config.max_wait_time_ms,
        config.min_wait_time_ms,
        config.target_batch_size,
        config.strategy,
        config.max_concurrent_batches,
        config.preferred_batch_sizes,
    )


def _settings(
    size: int,
    max_wait_ms: float,
    min_wait_ms: float,
    target: int | None,
    strategy: str,
    slots: int,
    preferred: list[int] | tuple[int, ...],
) -> BatchSettings:
    return BatchSettings(
        max_batch_size=size,
        max_wait=max_wait_ms / 1000.0,
        min_wait=min(min_wait_ms, max_wait_ms) / 1000.0,
        target_batch_size=min(target, size) if target is not None else None,
        strategy=strategy,  # type: ignore[arg-type]
        max_concurrent_batches=slots,
        preferred_batch_sizes=tuple(p for p in preferred if p <= size),
    )


def _apply(base: BatchSettings, o: BatchModelOverride) -> BatchSettings | None:
    if not o.enabled:
        return None
    max_wait = o.max_wait_time_ms if o.max_wait_time_ms is not None else base.max_wait * 1000.0
    min_wait = o.min_wait_time_ms if o.min_wait_time_ms is not None else base.min_wait * 1000.0
    preferred = o.preferred_batch_sizes if o.preferred_batch_sizes is not None else base.preferred_batch_sizes
    return _settings(
        o.max_batch_size or base.max_batch_size,
        max_wait,
        min_wait,
        o.target_batch_size or base.target_batch_size,
        o.strategy or base.strategy,
        o.max_concurrent_batches or base.max_concurrent_batches,
        preferred,
    )


def _engine(config: ProxyConfig, route: RouteConfig) -> str:
    name = route.backend or config.default_backend_name
    return next((b.engine for b in config.all_backends() if b.name == name), "generic")


def plan_from(config: ProxyConfig) -> BatchPlan | None:
    """The batching plan, or ``None`` when nothing batches (the stage is then left out entirely)."""
    batching = config.batching
    if not batching.enabled:
        return None
    routes = {
        route.display_name: RoutePlan(
            name=route.display_name,
            base=settings_from(batching, route.max_batch_size),
            protocol=route.batch_protocol,
            continuous_engine=_engine(config, route) in CONTINUOUS_ENGINES,
        )
        for route in config.routing.endpoints
        if route.batch_enabled
    }
    if not routes:
        return None
    return BatchPlan(
        routes=routes,
        overrides=tuple(batching.models),
        max_request_tokens=batching.max_request_tokens,
        max_queue_size=batching.max_queue_size,
        item_timeout=batching.item_timeout,
    )


def batching_notes(config: ProxyConfig) -> list[str]:
    """What ``check-config`` and the startup log say about routes that ask for batching."""
    notes: list[str] = []
    batching_routes = [r for r in config.routing.endpoints if r.batch_enabled]
    if batching_routes and not config.batching.enabled:
        notes.append("routes set batchEnabled but batching.enabled is false: nothing is batched")
        return notes
    for route in batching_routes:
        where = f"route {route.display_name}"
        protocol = route.batch_protocol or (protocol_for_path(route.path) if route.path else None)
        engine = _engine(config, route)
        if route.path is not None and route.path.endswith("/chat/completions"):
            notes.append(
                f"{where}: batchEnabled is accepted, but chat completions are never merged — each holds "
                "one conversation and the model server (vLLM, SGLang, TGI) batches them continuously "
                "itself; requests pass through unchanged"
            )
        elif protocol in GENERATION and engine in CONTINUOUS_ENGINES:
            notes.append(
                f"{where}: completions to a {engine} backend are never merged: the engine batches "
                "generation continuously itself; requests pass through unchanged"
            )
        elif protocol is None and route.path is not None:
            notes.append(
                f"{where}: no merger knows the path {route.path}; set batchProtocol or requests pass "
                "through unchanged"
            )
    return notes
