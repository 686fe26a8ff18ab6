"""Faults a replica can be told to produce: settings (config and admin API), the per-request header, and
the decision for one request (pure apart from the random source passed in).

``x-sim-fault`` header directives, comma-separated: ``status=503``, ``oom``, ``latency=200ms``,
``ttft=500ms``, ``hang`` / ``hang=2s``, ``reset`` (close before headers), ``stall-mid-stream[=5s]``,
``reset-mid-stream``, ``after=N`` (tokens sent before a mid-stream fault, default 2), ``dead``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration
from inferlane.sim.spec_types import Duration, Fraction, SpecModel

OOM_MESSAGE = (
    "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which "
    "1.06 GiB is free. Including non-PyTorch memory, this process has 78.12 GiB memory in use."
)


class FaultSettings(SpecModel):
    """Standing fault settings of a replica (rates are per request, 0..1)."""

    error_rate: Fraction = 0.0
    error_statuses: list[int] = Field(default_factory=lambda: [500])
    oom_rate: Fraction = 0.0
    latency: Duration = 0.0
    slow_ttft: Duration = 0.0
    hang_rate: Fraction = 0.0
    hang_for: Duration = 600.0
    reset_rate: Fraction = 0.0
    stall_rate: Fraction = 0.0
    stall_for: Duration = 600.0
    reset_mid_stream_rate: Fraction = 0.0
    after_tokens: int = Field(default=2, ge=0)
    engine_dead: bool = False


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What goes wrong with one request."""

    status: int | None = None
    oom: bool = False
    latency: float = 0.0
    ttft: float = 0.0
    hang: float | None = None
    reset: bool = False
    stall: float | None = None
    reset_mid_stream: bool = False
    after_tokens: int = 2
    dead: bool = False

    @property
    def before_headers(self) -> bool:
        return self.status is not None or self.oom or self.hang is not None or self.reset or self.dead

    @property
    def mid_stream(self) -> bool:
        return self.stall is not None or self.reset_mid_stream


NO_FAULT = FaultPlan()


def parse_header(value: str, hang_for: float = 600.0, stall_for: float = 600.0) -> dict[str, Any]:
    """Parse an ``x-sim-fault`` header into FaultPlan fields; ValueError names the bad directive."""
    out: dict[str, Any] = {}
    for raw in value.replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        key, _, arg = item.partition("=")
        key, arg = key.strip().lower(), arg.strip()
        try:
            _apply_directive(out, key, arg, hang_for, stall_for)
        except ValueError as error:
            raise ValueError(f"invalid x-sim-fault directive {item!r}: {error}") from None
    return out


def _apply_directive(out: dict[str, Any], key: str, arg: str, hang_for: float, stall_for: float) -> None:
    if key == "status":
        status = int(arg)
        if not 400 <= status <= 599:
            raise ValueError("status must be 400-599")
        out["status"] = status
    elif key in ("oom", "reset", "dead"):
        out[key] = True
    elif key in ("latency", "ttft"):
        out[key] = parse_duration(arg)
    elif key == "hang":
        out["hang"] = parse_duration(arg) if arg else hang_for
    elif key == "stall-mid-stream":
        out["stall"] = parse_duration(arg) if arg else stall_for
    elif key == "reset-mid-stream":
        out["reset_mid_stream"] = True
    elif key == "after":
        out["after_tokens"] = int(arg)
    else:
        raise ValueError(
            "known directives: status=N, oom, latency=D, ttft=D, hang[=D], reset, stall-mid-stream[=D], "
            "reset-mid-stream, after=N, dead"
        )


def plan_faults(settings: FaultSettings, header: str | None, rng: random.Random) -> FaultPlan:
    """Combine the standing settings (drawn with ``rng``) and the request's header into a plan."""
    fields: dict[str, Any] = {
        "latency": settings.latency,
        "ttft": settings.slow_ttft,
        "after_tokens": settings.after_tokens,
        "dead": settings.engine_dead,
    }
    if settings.error_rate and rng.random() < settings.error_rate:
        fields["status"] = rng.choice(settings.error_statuses or [500])
    if settings.oom_rate and rng.random() < settings.oom_rate:
        fields["oom"] = True
    if settings.hang_rate and rng.random() < settings.hang_rate:
        fields["hang"] = settings.hang_for
    if settings.reset_rate and rng.random() < settings.reset_rate:
        fields["reset"] = True
    if settings.stall_rate and rng.random() < settings.stall_rate:
        fields["stall"] = settings.stall_for
    if settings.reset_mid_stream_rate and rng.random() < settings.reset_mid_stream_rate:
        fields["reset_mid_stream"] = True
    if header:
        fields.update(parse_header(header, settings.hang_for, settings.stall_for))
    if fields == {"latency": 0.0, "ttft": 0.0, "after_tokens": 2, "dead": False}:
        return NO_FAULT
    return FaultPlan(**fields)


class FaultControl:
    """A replica's current fault settings, changed at runtime through ``/sim/faults``."""

    def __init__(self, initial: FaultSettings | None = None) -> None:
        self.settings = initial or FaultSettings()

    def merge(self, patch: dict[str, Any]) -> FaultSettings:
        """Apply a partial update (camelCase or snake_case keys); ValidationError on bad input."""
        current = self.settings.model_dump(by_alias=True)
        self.settings = FaultSettings.model_validate(
            {**current, **{to_camel(k): v for k, v in patch.items()}}
        )
        return self.settings

    def replace(self, settings: FaultSettings) -> None:
        self.settings = settings

    def clear(self) -> None:
        self.settings = FaultSettings()

    def set(self, **changes: Any) -> FaultSettings:
        """Python-side convenience: ``replica.faults.set(error_rate=0.5, error_statuses=[503])``."""
        return self.merge(changes)
