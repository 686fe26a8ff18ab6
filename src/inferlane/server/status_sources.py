"""Where the status document's sections come from besides ``App.state()``: the config's routes and model
versions, the live weight store, and the batcher's metrics. Pure reads; no I/O."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from inferlane.config.schema import ProxyConfig
from inferlane.stages.split.weights import WeightOverrides


def routes_of(config: ProxyConfig) -> list[dict[str, Any]]:
    routing = config.routing
    out: list[dict[str, Any]] = [
        {
            "name": route.display_name,
            "match": route.path if route.path is not None else f"{route.path_prefix}*",
            "models": list(route.models) or ([route.model] if route.model else []),
            "backend": route.backend or config.default_backend_name,
            "batching": route.batch_enabled,
        }
        for route in routing.endpoints
    ]
    default = config.default_backend_name
    if default is not None:
        out.append({"name": "default", "match": "*", "models": [], "backend": default, "batching": False})
    return out


def splits_of(overrides: WeightOverrides, state: dict[str, Any], config: Any) -> list[dict[str, Any]]:
    """Per-model version weights. Live ones (admin API, rollouts) win over the config's: the ``models``
    section's versions when this build has a model registry, and what stages report in ``state()["splits"]``
    (a list of ``{"model", "weights"}``)."""
    live = {model: dict(weights) for model, weights in overrides.items()}
    out: list[dict[str, Any]] = [
        {"model": model, "weights": weights, "source": "live"} for model, weights in sorted(live.items())
    ]
    seen: set[str | None] = set(live)
    reported = [
        (s.get("model"), s.get("weights", {})) for s in state.get("splits") or () if isinstance(s, dict)
    ]
    for model, weights in [*config_splits(config), *reported]:
        if model not in seen:
            seen.add(model)
            out.append({"model": model, "weights": weights, "source": "config"})
    return out


def config_splits(config: Any) -> list[tuple[str, dict[str, int]]]:
    """``models[].versions[]`` weights of models with more than one version, from the config (read by name:
    the section belongs to the model registry, which owns its schema)."""
    out = []
    for model in getattr(config, "models", None) or ():
        versions = getattr(model, "versions", None) or ()
        if len(versions) > 1:  # one version is no split
            out.append((str(model.name), {str(v.version): int(v.weight) for v in versions}))
    return out


#: the batcher's per-model metrics the page shows, by sample name → key in ``batching[model]``
BATCHING_SAMPLES = {
    "request_queue_depth": "queued",
    "batch_size_avg": "avg_batch_size",
    "inferlane_batch_merge_ratio": "merge_ratio",
    "inferlane_batch_batches_total": "batches",
    "inferlane_batch_requests_total": "requests",
    "inferlane_batch_dropped_total": "dropped",
}


def batching_from_metrics(registry: CollectorRegistry) -> dict[str, Any] | None:
    """Per-model batching stats read from the batcher's metrics (``None`` when no batch was ever queued);
    series that split a model further (``dropped`` by reason) are summed."""
    out: dict[str, dict[str, float]] = {}
    for family in registry.restricted_registry(list(BATCHING_SAMPLES)).collect():
        for sample in family.samples:
            key = BATCHING_SAMPLES.get(sample.name)
            if key is not None:
                stats = out.setdefault(sample.labels.get("model", "-"), {})
                stats[key] = round(stats.get(key, 0.0) + sample.value, 3)
    return dict(sorted(out.items())) or None
