"""Mirror decisions (pure): whether to copy a request, and how a shadow attempt ended."""

from __future__ import annotations

import random

from inferlane.errors import InferlaneError, UpstreamTimeout


def should_mirror(percent: float, rng: random.Random) -> bool:
    return percent >= 100 or (percent > 0 and rng.random() * 100 < percent)


def has_room(in_flight: int, max_concurrent: int) -> bool:
    return in_flight < max_concurrent


def result_of_status(status: int) -> str:
    return "success" if status < 400 else "error"


def result_of_error(error: InferlaneError | TimeoutError) -> str:
    if isinstance(error, TimeoutError | UpstreamTimeout):
        return "timeout"
    return "failure"
