"""Bounded label values (pure): the first ``limit`` distinct values are kept, later ones become ``other``.

Model names come from request bodies and tenants from headers, so an unbounded set of label values would be
one client away; a cap keeps every metric's series count bounded whatever clients send.
"""

from __future__ import annotations

OTHER = "other"
NONE = "-"


class LabelCap:
    __slots__ = ("kept", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: set[str] = set()

    def __call__(self, value: str | None) -> str:
        if not value:
            return NONE
        kept = self.kept
        if value in kept:
            return value
        if len(kept) < self.limit:
            kept.add(value)
            return value
        return OTHER


def status_class(status: int) -> str:
    """``2xx`` … ``5xx``: the seed's Argo analysis selects ``code=~"5xx"``, which matches this value only."""
    return f"{status // 100}xx" if 100 <= status < 600 else "other"
