"""The registry from config (the ``models`` list, ModelVersion files already merged in by the loader)."""

from __future__ import annotations

from types import MappingProxyType

from inferlane.config.models import ModelConfig
from inferlane.config.schema import ProxyConfig
from inferlane.registry.model import Fallback, Mirror, Model, Version
from inferlane.registry.registry import Registry


def model_from(config: ModelConfig) -> Model:
    mirror = config.mirror
    experiment = config.experiment
    return Model(
        name=config.name,
        aliases=tuple(config.aliases),
        versions=tuple(
            Version(v.version, v.backend, v.weight, v.served_name, v.canary) for v in config.versions
        ),
        max_tokens=config.defaults.max_tokens,
        allowed_endpoints=frozenset(config.defaults.allowed_endpoints),
        allowed_backends=frozenset(config.defaults.allowed_backends),
        sticky_by=tuple(_source(s) for s in config.split.sticky_by),
        experiment_header=experiment.header.lower() if experiment is not None else None,
        variants=MappingProxyType(dict(experiment.variants) if experiment is not None else {}),
        mirror=(
            Mirror(mirror.percent, mirror.version, mirror.backend, mirror.max_concurrent, mirror.timeout)
            if mirror is not None
            else None
        ),
        fallbacks=tuple(Fallback(f.model, frozenset(f.on)) for f in config.fallbacks),
    )


def _source(text: str) -> tuple[str, str]:
    kind, _, name = text.partition(":")
    return kind, name.lower() if kind == "header" else name


def registry_from(config: ProxyConfig, created: int = 0) -> Registry | None:
    """``None`` when no models are configured: requests pass through with their model names untouched."""
    if not config.models:
        return None
    return Registry([model_from(m) for m in config.models], created)


def known_versions(config: ProxyConfig, model: str) -> list[str] | None:
    """For the admin API's weight changes: the versions of the model with this canonical name (live
    weights are keyed by canonical names, so an alias or unknown name has none: ``[]``); ``None`` when no
    registry is configured (nothing to check against)."""
    registry = registry_from(config)
    if registry is None:
        return None
    found = registry.get(model)
    return [version.name for version in found.versions] if found is not None else []
