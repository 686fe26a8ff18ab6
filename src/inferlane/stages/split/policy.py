"""The traffic-split choice (pure): weighted, sticky per user, with header experiments.

A sticky key (user id, session) hashes to a point in [0, 1); versions own consecutive slices of [0, 1)
sized by their weights, in a fixed order (the config's). A user keeps their version while the weights
stay, and a weight change moves only the users in the slice that changed hands: going from 10% to 25%
canary moves users from stable into the canary and never the other way. Without a key the point is drawn
from the random source, so each request is split independently.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_SCALE = float(1 << 64)


def bucket(key: str, salt: str) -> float:
    """A stable point in [0, 1) for a sticky key; the salt (the model name) decorrelates experiments."""
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


@dataclass(frozen=True, slots=True)
class SplitTable:
    """Versions and the upper end of each one's slice of [0, 1); zero-weight versions own nothing."""

    names: tuple[str, ...]
    bounds: tuple[float, ...]

    @staticmethod
    def of(order: Sequence[str], weights: Mapping[str, int]) -> SplitTable:
        total = sum(max(weights.get(name, 0), 0) for name in order)
        if total <= 0:
            raise ValueError("a split needs a version with a positive weight")
        names, bounds, running = [], [], 0
        for name in order:
            weight = max(weights.get(name, 0), 0)
            if weight == 0:
                continue
            running += weight
            names.append(name)
            bounds.append(running / total)
        bounds[-1] = 1.0
        return SplitTable(tuple(names), tuple(bounds))

    def pick(self, point: float) -> str:
        return self.names[min(bisect_right(self.bounds, point), len(self.names) - 1)]


def sticky_key(
    sources: Sequence[tuple[str, str]], headers: Mapping[str, str], body: Mapping[str, Any] | None
) -> str | None:
    """The first present key among ``("header", name)`` / ``("body", field)`` sources."""
    for kind, name in sources:
        if kind == "header":
            value: Any = headers.get(name)
        else:
            value = body.get(name) if body is not None else None
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class Choice:
    version: str
    #: ``experiment`` (header), ``sticky`` (hashed key) or ``random``
    reason: str


def choose(
    table: SplitTable,
    salt: str,
    key: str | None,
    rng: random.Random,
    variant: str | None = None,
) -> Choice:
    """The version for one request: the experiment's variant if given, else the sticky or random point."""
    if variant is not None:
        return Choice(variant, "experiment")
    if len(table.names) == 1:
        return Choice(table.names[0], "sticky" if key is not None else "random")
    if key is not None:
        return Choice(table.pick(bucket(key, salt)), "sticky")
    return Choice(table.pick(rng.random()), "random")
