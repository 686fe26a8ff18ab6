"""Per-route request rewrites, pure: upstream path, request headers (add/set/remove), the body's model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy


@dataclass(frozen=True, slots=True)
class Rewrite:
    #: the whole upstream path (the query string is kept)
    path: str | None = None
    #: replaces the route's matched prefix (``prefix``) with this
    path_prefix: str | None = None
    #: the route's own ``pathPrefix``, for ``path_prefix`` rewrites
    matched_prefix: str | None = None
    model: str | None = None
    header_add: tuple[tuple[str, str], ...] = ()
    header_set: tuple[tuple[str, str], ...] = ()
    header_remove: tuple[str, ...] = ()

    @property
    def edits_headers(self) -> bool:
        return bool(self.header_add or self.header_set or self.header_remove)


def upstream_target(target: str, rewrite: Rewrite) -> str:
    """The upstream request target (path and query) after a path rewrite; ``target`` if none applies."""
    path, sep, query = target.partition("?")
    if rewrite.path is not None:
        path = rewrite.path
    elif rewrite.path_prefix is not None and rewrite.matched_prefix is not None:
        if not path.startswith(rewrite.matched_prefix):
            return target
        rest = path[len(rewrite.matched_prefix) :]
        path = rewrite.path_prefix.rstrip("/") + "/" + rest.lstrip("/") if rest else rewrite.path_prefix
    else:
        return target
    return path + sep + query


def rewritten_headers(headers: Mapping[str, str], rewrite: Rewrite) -> CIMultiDictProxy[str]:
    """A copy of ``headers`` with the route's removals, replacements and additions applied, in that order."""
    out: CIMultiDict[str] = CIMultiDict(headers)
    for name in rewrite.header_remove:
        out.popall(name, None)
    for name, value in rewrite.header_set:
        out[name] = value
    for name, value in rewrite.header_add:
        out.add(name, value)
    return CIMultiDictProxy(out)


def without(headers: Mapping[str, str], name: str) -> CIMultiDictProxy[str]:
    out: CIMultiDict[str] = CIMultiDict(headers)
    out.popall(name, None)
    return CIMultiDictProxy(out)


def rewritten_body(body: dict[str, Any] | None, model: str | None) -> dict[str, Any] | None:
    """The body with its ``model`` replaced, or ``None`` when nothing changes (forward the original bytes)."""
    if body is None or model is None or body.get("model") == model:
        return None
    return {**body, "model": model}
