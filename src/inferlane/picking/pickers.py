"""Pickers: turn the candidates' total scores into one choice. Each returns the index of the winner."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

Picker = Callable[[Sequence[float], random.Random], int]

#: scores closer than this are a tie (sums of the same terms in another order differ in the last bits)
TIE = 1e-9


def max_score(scores: Sequence[float], rng: random.Random) -> int:
    """The best score; ties broken uniformly at random."""
    if not scores:
        raise ValueError("no candidates")
    floor = max(scores) - TIE
    ties = [i for i, s in enumerate(scores) if s >= floor]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


def weighted_random(scores: Sequence[float], rng: random.Random) -> int:
    """A candidate drawn with probability proportional to its score; uniform when every score is 0."""
    n = len(scores)
    if not n:
        raise ValueError("no candidates")
    total = 0.0
    for s in scores:
        if s > 0:
            total += s
    if total <= 0:
        return rng.randrange(n)
    point = rng.random() * total
    for i, s in enumerate(scores):
        if s > 0:
            point -= s
            if point < 0:
                return i
    return max(i for i, s in enumerate(scores) if s > 0)


def power_of_two(scores: Sequence[float], rng: random.Random) -> int:
    """The better of two distinct candidates drawn uniformly (a tie is a coin flip)."""
    n = len(scores)
    if not n:
        raise ValueError("no candidates")
    if n == 1:
        return 0
    a = rng.randrange(n)
    b = rng.randrange(n - 1)
    if b >= a:
        b += 1
    if abs(scores[a] - scores[b]) <= TIE:
        return a if rng.random() < 0.5 else b
    return a if scores[a] > scores[b] else b


def make_picker(name: str) -> Picker:
    match name:
        case "max-score":
            return max_score
        case "weighted-random":
            return weighted_random
        case "power-of-two":
            return power_of_two
    raise ValueError(f"unknown picker {name!r} (known: max-score, weighted-random, power-of-two)")
