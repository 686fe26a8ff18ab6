"""Match conditions of a route, each with ``matches`` (one request) and ``covers`` (every request the other
condition accepts, this one accepts too — used to find shadowed routes at config time). Pure.

``covers`` is conservative: it answers ``True`` only when sure, so a route is never rejected wrongly.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

_GLOB = re.compile(r"[*?\[]")

HeaderKind = Literal["exact", "prefix", "regex", "present", "absent"]


@dataclass(frozen=True, slots=True)
class HeaderCondition:
    #: lower-case header name
    name: str
    kind: HeaderKind
    value: str = ""
    compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "regex" and self.compiled is None:
            object.__setattr__(self, "compiled", re.compile(self.value))

    def matches(self, headers: Mapping[str, str]) -> bool:
        got = headers.get(self.name)
        if got is None:
            return self.kind == "absent"
        if self.kind == "exact":
            return got == self.value
        if self.kind == "prefix":
            return got.startswith(self.value)
        if self.compiled is not None:
            return self.compiled.fullmatch(got) is not None
        return self.kind == "present"

    def covers(self, other: HeaderCondition) -> bool:
        if other.name != self.name:
            return False
        if self.kind == "present":
            return other.kind != "absent"
        if self.kind in ("absent", "exact"):
            return other.kind == self.kind and other.value == self.value
        if self.kind == "prefix":
            return other.kind in ("exact", "prefix") and other.value.startswith(self.value)
        if other.kind == "exact" and self.compiled is not None:  # regex
            return self.compiled.fullmatch(other.value) is not None
        return other.kind == "regex" and other.value == self.value


BodyKind = Literal["equals", "present", "absent"]
_MISSING = object()


@dataclass(frozen=True, slots=True)
class BodyCondition:
    #: the dotted path split in parts (``metadata.tier`` → ``("metadata", "tier")``); digits index lists
    path: tuple[str, ...]
    kind: BodyKind
    value: Any = None

    def matches(self, body: Mapping[str, Any] | None) -> bool:
        got = lookup(body, self.path)
        if self.kind == "absent":
            return got is _MISSING
        if self.kind == "present":
            return got is not _MISSING
        return same_json(got, self.value)

    def covers(self, other: BodyCondition) -> bool:
        if other.path != self.path:
            return False
        if self.kind == "present":
            return other.kind != "absent"
        return other.kind == self.kind and same_json(other.value, self.value)


def lookup(body: Any, path: tuple[str, ...]) -> Any:
    node = body
    for part in path:
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` equals ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


@dataclass(frozen=True, slots=True)
class TokenBand:
    """Prompt tokens in ``[low, high)``; ``high`` ``None`` is unbounded."""

    low: int = 0
    high: int | None = None
    #: the range's name (``x-token-range``, ``model_size`` label)
    label: str = "-"
    #: tokenizer name, or ``None`` for the model's own (or the chars/4 estimate)
    tokenizer: str | None = None

    def matches(self, tokens: int) -> bool:
        return tokens >= self.low and (self.high is None or tokens < self.high)

    def covers(self, other: TokenBand) -> bool:
        if other.low < self.low:
            return False
        return self.high is None or (other.high is not None and other.high <= self.high)

    def overlaps(self, other: TokenBand) -> bool:
        low = max(self.low, other.low)
        highs = [h for h in (self.high, other.high) if h is not None]
        return not highs or low < min(highs)

    def describe(self) -> str:
        return f"[{self.low}, {self.high if self.high is not None else '∞'})"


def path_covers(
    exact: str | None, prefix: str | None, other_exact: str | None, other_prefix: str | None
) -> bool:
    if exact is not None:
        return other_exact == exact
    if prefix is None:
        return True
    other = other_exact if other_exact is not None else other_prefix
    return other is not None and other.startswith(prefix)


def models_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for a list of ``*``/``?`` globs (``fnmatchcase`` semantics)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def models_cover(patterns: tuple[str, ...], others: tuple[str, ...]) -> bool:
    if not patterns:
        return True
    return bool(others) and all(any(_glob_covers(p, o) for p in patterns) for o in others)


def _glob_covers(pattern: str, other: str) -> bool:
    if not _GLOB.search(other):
        return fnmatchcase(other, pattern)
    if pattern in ("*", other):
        return True
    stem = pattern[:-1]
    return pattern.endswith("*") and not _GLOB.search(stem) and other.startswith(stem)


def all_covered(mine: Iterable[Any], others: Iterable[Any]) -> bool:
    """Every condition of mine is implied by some condition of the other route."""
    theirs = tuple(others)
    return all(any(m.covers(o) for o in theirs) for m in mine)
