"""The ``rollouts:`` config section: progressive delivery of a model's canary version with analysis.

Argo Rollouts' vocabulary (``setWeight``, ``pause: {duration: 5m}``, ``pause: {}``), judged by the proxy's own
per-version measurements instead of a Prometheus query. Documented in docs/configuration.md ("rollouts").
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration


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


def rollout_problems(rollouts: list[RolloutConfig]) -> list[str]:
    """Cross-entry checks, one line per problem (called from ProxyConfig's validator)."""
    names = [rollout.model for rollout in rollouts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return [f"rollouts: more than one rollout for model(s) {', '.join(duplicates)}"]
    return []
