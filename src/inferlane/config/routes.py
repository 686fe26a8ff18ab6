"""Config sections for route matching and rewriting (``routing.endpoints[]`` conditions, rewrites,
token ranges, ``routing.tokenizers``) and the route-table checks (shadowed routes, overlapping ranges).

Documented in docs/configuration.md (routing) and docs/routes.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.stages.route.compile import compile_routes
from inferlane.stages.route.shadow import table_conflicts

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig

NonNegativeInt = Annotated[int, Field(ge=0)]
HeaderName = Annotated[str, Field(min_length=1, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
JsonScalar = str | int | float | bool | None


class _Section(BaseModel):
    """Same rules as every config section: camelCase, strict, unknown keys rejected, frozen."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


class HeaderMatch(_Section):
    """One header condition: exactly one of ``exact``, ``prefix``, ``regex`` (full match), ``present``."""

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None
    #: ``true``: the header must be there (any value); ``false``: it must be absent
    present: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("exact", "prefix", "regex", "present") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of 'exact', 'prefix', 'regex' or 'present'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex: invalid regular expression {self.regex!r} ({exc})") from exc
        return self


class BodyMatch(_Section):
    """One body-field condition on a dotted path (``metadata.tier``): ``equals`` a JSON scalar, or
    ``present``."""

    equals: JsonScalar = None
    present: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if ("equals" in self.model_fields_set) == (self.present is not None):
            raise ValueError("set exactly one of 'equals' or 'present'")
        return self


class PromptTokens(_Section):
    """A prompt-token range: ``min`` inclusive, ``max`` exclusive, so ranges that share a bound tile."""

    min: NonNegativeInt = 0
    max: NonNegativeInt | None = None
    #: the range's name in the ``x-token-range`` response header and the ``model_size`` metric label
    name: str | None = None
    #: count with this ``routing.tokenizers[].name`` instead of the model's tokenizer
    tokenizer: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max is not None and self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min}); max is exclusive")
        return self


class HeaderRewrite(_Section):
    #: appended (an existing value is kept)
    add: dict[HeaderName, str] = Field(default_factory=dict)
    #: replaced (any existing value is dropped)
    set: dict[HeaderName, str] = Field(default_factory=dict)
    remove: list[HeaderName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        names = [n.lower() for n in (*self.add, *self.set, *self.remove)]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"header(s) {', '.join(twice)} appear in more than one of add/set/remove")
        return self


class RouteRewrite(_Section):
    #: replaces the whole upstream path (the query string is kept)
    path: str | None = None
    #: replaces the matched ``pathPrefix`` only
    path_prefix: str | None = None
    #: replaces the body's ``model`` field
    model: str | None = None
    request_headers: HeaderRewrite = HeaderRewrite()

    @model_validator(mode="after")
    def _paths(self) -> Self:
        if self.path is not None and self.path_prefix is not None:
            raise ValueError("set at most one of 'path' and 'pathPrefix'")
        for value in (self.path, self.path_prefix):
            if value is not None and not value.startswith("/"):
                raise ValueError(f"paths start with '/', got {value!r}")
        return self


Translate = Literal["completionsToChat"]


class TokenizerConfig(_Section):
    """A real tokenizer from a local ``tokenizer.json`` (Hugging Face ``tokenizers`` format)."""

    name: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(min_length=1)]
    #: prompts for these models (``*`` wildcards) are counted with it
    models: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _exists(self) -> Self:
        if not Path(self.path).is_file():
            raise ValueError(f"path: tokenizer file {self.path!r} does not exist")
        return self


def route_problems(config: ProxyConfig) -> list[str]:
    """Cross-checks of the route table, one ``routing.…: message`` line each."""
    routing = config.routing
    problems = []
    names = [t.name for t in routing.tokenizers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"routing.tokenizers: duplicate name {name!r}")
    for i, route in enumerate(routing.endpoints):
        if route.rewrite is not None and route.rewrite.path_prefix is not None and route.path_prefix is None:
            problems.append(
                f"routing.endpoints[{i}].rewrite.pathPrefix: the route has no 'pathPrefix' to replace"
            )
        tokens = route.prompt_tokens
        if tokens is not None and tokens.tokenizer is not None and tokens.tokenizer not in names:
            problems.append(
                f"routing.endpoints[{i}].promptTokens.tokenizer: unknown tokenizer {tokens.tokenizer!r}"
            )
    table = compile_routes(routing.endpoints, config.default_backend_name)
    for conflict in table_conflicts(table):
        problems.append(f"routing.endpoints[{conflict.index}]: {conflict.message}")
    return problems
