"""What check-config says about rollouts: how long each takes at best, how fast it rolls back."""

from __future__ import annotations

from inferlane.config.rollouts import RolloutConfig
from inferlane.config.units import format_duration
from inferlane.rollout.controller import spec_of
from inferlane.rollout.state import time_bounds


def rollout_notes(rollouts: list[RolloutConfig]) -> list[str]:
    """For ``check-config``: how long each rollout takes at best, and how fast it rolls back."""
    notes = []
    for rollout in rollouts:
        to_complete, to_roll_back = time_bounds(spec_of(rollout))
        if to_complete is None:
            pace = "reaches 100% only after an operator's promote (a pause without duration)"
        else:
            pace = f"reaches 100% after at least {_minutes(to_complete)} of pauses"
        notes.append(
            f"rollout of {rollout.model}: {pace}; a failing canary is rolled back within about "
            f"{_minutes(to_roll_back)} once it has analysis.minSamples requests in the window"
        )
    return notes


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g}m" if seconds >= 60 and seconds % 60 == 0 else format_duration(seconds)
