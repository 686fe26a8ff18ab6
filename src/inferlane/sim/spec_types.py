"""Shared pydantic pieces of the simulator's YAML: camelCase keys, durations, unknown keys rejected."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Fraction = Annotated[float, AfterValidator(lambda v: v if 0.0 <= v <= 1.0 else _fraction_error(v))]
NonNegative = Annotated[float, AfterValidator(_non_negative)]


def _fraction_error(value: float) -> float:
    raise ValueError(f"must be between 0 and 1, got {value}")


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, validate_default=True
    )
