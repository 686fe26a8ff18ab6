"""Pure route matching over the seed's ``routing.endpoints`` list: first match wins, then the default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inferlane.config.schema import ProxyConfig


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    backend: str | None
    path: str | None = None
    prefix: str | None = None
    timeout: float | None = None

    def matches(self, path: str) -> bool:
        if self.path is not None:
            return path == self.path
        return self.prefix is not None and path.startswith(self.prefix)


def routes_from(config: ProxyConfig) -> tuple[tuple[Route, ...], Route]:
    """The ordered route table and the default route (to the default backend) from config."""
    default_backend = config.default_backend_name
    table = tuple(
        Route(
            name=r.display_name,
            backend=r.backend or default_backend,
            path=r.path,
            prefix=r.path_prefix,
            timeout=r.timeout,
        )
        for r in config.routing.endpoints
    )
    return table, Route(name="default", backend=default_backend)


def match(table: Sequence[Route], default: Route, path: str) -> Route:
    for route in table:
        if route.matches(path):
            return route
    return default
