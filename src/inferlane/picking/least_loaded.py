"""Least-in-flight choice with random tie-break: the default picker until load-aware profiles exist."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def least_loaded(candidates: Sequence[T], loads: Sequence[int], rng: random.Random) -> T:
    """The candidate with the smallest load; ties broken uniformly at random."""
    if not candidates:
        raise ValueError("no candidates")
    best = min(loads)
    ties = [c for c, load in zip(candidates, loads, strict=True) if load == best]
    return ties[0] if len(ties) == 1 else rng.choice(ties)
