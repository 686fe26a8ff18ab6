"""Pure route matching: the first route whose every condition holds wins, else the default route.

Conditions are checked cheapest first; the prompt-token condition last and lazily: when a route needs a
token count that is not known yet, :func:`first_match` answers :class:`NeedTokens` and the caller counts
(possibly off the event loop) and asks again. So a request is only counted when a route needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inferlane.stages.route.conditions import (
    BodyCondition,
    HeaderCondition,
    TokenBand,
    all_covered,
    models_cover,
    models_pattern,
    path_covers,
)
from inferlane.stages.route.rewrite import Rewrite

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What matching looks at. ``headers`` must be case-insensitive (aiohttp's are) or lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]
    model: str | None = None
    body: Mapping[str, Any] | None = None


Check = Callable[[RequestFacts], bool]


@dataclass(frozen=True, slots=True)
class Matcher:
    path: str | None = None
    prefix: str | None = None
    methods: frozenset[str] = frozenset()
    headers: tuple[HeaderCondition, ...] = ()
    models: tuple[str, ...] = ()
    body: tuple[BodyCondition, ...] = ()
    tokens: TokenBand | None = None
    #: the conditions this matcher has (token range aside), cheapest first, built once
    checks: tuple[Check, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(_checks(self)))

    def matches_before_tokens(self, facts: RequestFacts) -> bool:
        return all(check(facts) for check in self.checks)

    def covers(self, other: Matcher) -> bool:
        """Every request ``other`` matches, this matcher matches too (conservative: sure or ``False``)."""
        if self.methods and not (other.methods and other.methods <= self.methods):
            return False
        if not path_covers(self.path, self.prefix, other.path, other.prefix):
            return False
        if not models_cover(self.models, other.models):
            return False
        if not all_covered(self.headers, other.headers) or not all_covered(self.body, other.body):
            return False
        if self.tokens is None:
            return True
        return other.tokens is not None and self.tokens.covers(other.tokens)


def _checks(m: Matcher) -> list[Check]:
    checks: list[Check] = []
    methods, exact, prefix = m.methods, m.path, m.prefix
    if methods:
        checks.append(lambda f: f.method in methods)
    if exact is not None:
        checks.append(lambda f: f.path == exact)
    elif prefix is not None:
        checks.append(lambda f: f.path.startswith(prefix))
    if m.models:
        pattern = models_pattern(m.models)
        checks.append(lambda f: f.model is not None and pattern.match(f.model) is not None)
    checks.extend(_header_check(condition) for condition in m.headers)
    checks.extend(_body_check(condition) for condition in m.body)
    return checks


def _header_check(condition: HeaderCondition) -> Check:
    matches = condition.matches
    return lambda f: matches(f.headers)


def _body_check(condition: BodyCondition) -> Check:
    matches = condition.matches
    return lambda f: matches(f.body)


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    backend: str | None
    matcher: Matcher = field(default_factory=Matcher)
    timeout: float | None = None
    rewrite: Rewrite | None = None
    #: protocol translation to apply (``completionsToChat``), or ``None``
    translate: str | None = None

    @property
    def token_range(self) -> str:
        """The ``x-token-range`` / ``model_size`` value: the range name, or ``-`` without a range."""
        tokens = self.matcher.tokens
        return tokens.label if tokens is not None else "-"


@dataclass(frozen=True, slots=True)
class NeedTokens:
    """Matching needs the prompt's token count by ``tokenizer`` (``None``: the model's own counter);
    matching resumes at route ``index`` once it is known."""

    tokenizer: str | None
    index: int = 0


def first_match(
    table: Sequence[Route],
    default: Route,
    facts: RequestFacts,
    counts: Mapping[str | None, int | None],
    start: int = 0,
) -> Route | NeedTokens:
    """The first matching route, the default, or which count is missing to decide.

    ``counts`` holds the token counts known so far by tokenizer; a count of ``None`` means the request
    has no prompt to count, and then no token-range route matches it. ``start`` resumes after a
    :class:`NeedTokens` answer (its ``index``), so no route is checked twice.
    """
    for index in range(start, len(table)):
        route = table[index]
        matcher = route.matcher
        for check in matcher.checks:
            if not check(facts):
                break
        else:
            band = matcher.tokens
            if band is None:
                return route
            if band.tokenizer not in counts:
                return NeedTokens(band.tokenizer, index)
            tokens = counts[band.tokenizer]
            if tokens is not None and band.matches(tokens):
                return route
    return default


def routes_from(config: ProxyConfig) -> tuple[tuple[Route, ...], Route]:
    """The ordered route table and the default route (see :mod:`inferlane.stages.route.compile`)."""
    from inferlane.stages.route.compile import routes_from as compiled

    return compiled(config)
