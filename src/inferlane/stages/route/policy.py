"""Pure route matching over the seed's ``routing.endpoints`` list: first match wins, then the default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from inferlane.config.schema import ProxyConfig


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    backend: str | None
    path: str | None = None
    prefix: str | None = None
    timeout: float | None = None
    models: tuple[str, ...] = ()

    def matches(self, path: str, model: str | None) -> bool:
        if self.path is not None:
            if path != self.path:
                return False
        elif self.prefix is None or not path.startswith(self.prefix):
            return False
        if not self.models:
            return True
        return model is not None and any(fnmatchcase(model, pattern) for pattern in self.models)


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
            models=tuple(r.models),
        )
        for r in config.routing.endpoints
    )
    return table, Route(name="default", backend=default_backend)


def match(table: Sequence[Route], default: Route, path: str, model: str | None = None) -> Route:
    for route in table:
        if route.matches(path, model):
            return route
    return default
