"""The ``rollouts:`` config section: progressive delivery of a model's canary version with analysis.

Argo Rollouts' vocabulary (``setWeight``, ``pause: {duration: 5m}``, ``pause: {}``), judged by the proxy's own
per-version measurements instead of a Prometheus query. Documented in docs/configuration.md ("rollouts").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig


def _text(value: Any) -> Any:
    """Versions are names: ``stableVersion: 2`` (a YAML number) means ``"2"``, as in the model registry."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


_Duration = Annotated[float, BeforeValidator(parse_duration)]
_Version = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
_PositiveDuration = Annotated[_Duration, Field(gt=0)]


class _Section(BaseModel):
    # the same rules as config.schema.Section (that module imports this one, so it cannot be shared)
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


class PauseConfig(_Section):
    #: unset: wait until an operator promotes
    duration: _Duration | None = None


class RolloutStepConfig(_Section):
    set_weight: Annotated[int, Field(ge=0, le=100)] | None = None
    pause: PauseConfig | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        if (self.set_weight is None) == (self.pause is None):
            raise ValueError("a step is either 'setWeight: <0-100>' or 'pause: {duration: 5m}' / 'pause: {}'")
        return self


def _seed_steps() -> list[RolloutStepConfig]:
    """The seed's Argo Rollout: 10% → 5m → 25% → 10m → 50% → 15m → 75% → 10m → 100%."""
    steps: list[RolloutStepConfig] = []
    for weight, minutes in ((10, 5), (25, 10), (50, 15), (75, 10)):
        steps.append(RolloutStepConfig(set_weight=weight))
        steps.append(RolloutStepConfig(pause=PauseConfig(duration=minutes * 60.0)))
    steps.append(RolloutStepConfig(set_weight=100))
    return steps


class AnalysisConfig(_Section):
    """What the canary's measurements must meet (the seed's AnalysisTemplate: ≤ 1% errors, p99 ≤ 500ms)."""

    max_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    max_p99_latency: _PositiveDuration = 0.5
    min_samples: Annotated[int, Field(ge=1)] = 50
    interval: _PositiveDuration = 30.0
    window: _PositiveDuration = 60.0
    failure_limit: Annotated[int, Field(ge=0)] = 0
    #: canary error rate at most the stable's plus this (unset: no comparison)
    max_error_rate_increase: Annotated[float, Field(ge=0, le=1)] | None = None
    #: canary p99 at most this times the stable's (unset: no comparison)
    max_p99_ratio: Annotated[float, Field(gt=0)] | None = None


class RolloutConfig(_Section):
    model: Annotated[str, Field(min_length=1)]
    stable_version: _Version
    canary_version: _Version
    steps: list[RolloutStepConfig] = Field(default_factory=_seed_steps)
    analysis: AnalysisConfig = AnalysisConfig()

    @model_validator(mode="after")
    def _two_versions(self) -> Self:
        if self.stable_version == self.canary_version:
            raise ValueError(f"stableVersion and canaryVersion are both {self.stable_version!r}")
        return self


def rollout_problems(config: ProxyConfig) -> list[str]:
    """Cross-checks, one ``path: message`` per problem (called from ProxyConfig's validator; the registry
    part again once ``modelSources`` are read, like the registry's own checks)."""
    names = [rollout.model for rollout in config.rollouts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    problems = [f"rollouts: more than one rollout for model(s) {', '.join(duplicates)}"] if duplicates else []
    if not config.model_sources:
        problems.extend(rollout_registry_problems(config))
    return problems


def rollout_registry_problems(config: ProxyConfig) -> list[str]:
    """Each rollout names a registry model (its canonical name) and two of its versions."""
    models = {model.name: model for model in config.models}
    aliases = {alias: model.name for model in config.models for alias in model.aliases}
    problems = []
    for i, rollout in enumerate(config.rollouts):
        model = models.get(rollout.model)
        if model is None:
            if rollout.model in aliases:
                why = f"{rollout.model!r} is an alias; use the model's name {aliases[rollout.model]!r}"
            elif not models:
                why = f"no model registry: declare {rollout.model!r} and its versions under 'models'"
            else:
                why = f"unknown model {rollout.model!r} (models: {', '.join(sorted(models))})"
            problems.append(f"rollouts[{i}].model: {why}")
            continue
        versions = [version.version for version in model.versions]
        for key, version in (
            ("stableVersion", rollout.stable_version),
            ("canaryVersion", rollout.canary_version),
        ):
            if version not in versions:
                known = ", ".join(versions) or "none"
                what = f"model {model.name!r} has no version {version!r} (versions: {known})"
                problems.append(f"rollouts[{i}].{key}: {what}")
    return problems
