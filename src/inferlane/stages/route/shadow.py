"""Route-table checks at config time, pure: routes that can never match because an earlier route takes
every request they would match (shadowed), and token ranges that overlap among otherwise-identical
routes (the first would silently win the overlap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from inferlane.stages.route.policy import Route


@dataclass(frozen=True, slots=True)
class Conflict:
    #: index of the later (losing) route in the table
    index: int
    message: str


def table_conflicts(table: Sequence[Route]) -> list[Conflict]:
    conflicts = []
    for j, later in enumerate(table):
        for i in range(j):
            earlier = table[i]
            if earlier.matcher.covers(later.matcher):
                conflicts.append(
                    Conflict(
                        j,
                        f"route {later.name!r} is unreachable: route {earlier.name!r} "
                        f"(routing.endpoints[{i}]) matches every request it would match; "
                        "put the more specific route first",
                    )
                )
                break
            overlap = _token_overlap(earlier, later)
            if overlap:
                conflicts.append(Conflict(j, f"{overlap} (routing.endpoints[{i}])"))
                break
    return conflicts


def _token_overlap(earlier: Route, later: Route) -> str | None:
    a, b = earlier.matcher.tokens, later.matcher.tokens
    if a is None or b is None or not a.overlaps(b):
        return None
    if replace(earlier.matcher, tokens=None) != replace(later.matcher, tokens=None):
        return None
    return (
        f"promptTokens {b.describe()} of route {later.name!r} overlaps {a.describe()} of route "
        f"{earlier.name!r} with the same other conditions; ranges are [min, max): let one end where "
        "the next begins"
    )
