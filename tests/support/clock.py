"""A manual clock for tests: components that take a clock callable read ``now``, which the test sets."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
