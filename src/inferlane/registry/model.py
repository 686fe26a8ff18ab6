"""Registry value types: a model, its versions and the policies attached to it (frozen, pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Version:
    name: str
    #: ``None``: the backend the route chose
    backend: str | None
    weight: int
    #: what the model server calls it; ``None``: the model's canonical name
    served_name: str | None = None
    canary: bool = False


@dataclass(frozen=True, slots=True)
class Mirror:
    percent: float
    #: a version of the same model, or a backend (exactly one is set)
    version: str | None
    backend: str | None
    max_concurrent: int
    timeout: float


@dataclass(frozen=True, slots=True)
class Fallback:
    model: str
    #: failure kinds that move the request to this model: 5xx, timeout, circuit-open, 429, context-length
    on: frozenset[str]


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    aliases: tuple[str, ...] = ()
    versions: tuple[Version, ...] = ()
    max_tokens: int | None = None
    #: API paths the model may be called on (empty: any)
    allowed_endpoints: frozenset[str] = frozenset()
    #: backends the model may be served by (empty: any)
    allowed_backends: frozenset[str] = frozenset()
    #: sticky-key sources in order: ("header", "x-user-id"), ("body", "user")
    sticky_by: tuple[tuple[str, str], ...] = ()
    experiment_header: str | None = None
    #: experiment header value → version name
    variants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    mirror: Mirror | None = None
    fallbacks: tuple[Fallback, ...] = ()

    def version(self, name: str) -> Version | None:
        for version in self.versions:
            if version.name == name:
                return version
        return None

    def served_name(self, version: Version | None) -> str:
        if version is not None and version.served_name:
            return version.served_name
        return self.name
