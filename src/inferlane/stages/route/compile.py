"""Config → the frozen route table the policy matches against (done once per pipeline build)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from inferlane.stages.route.conditions import BodyCondition, HeaderCondition, TokenBand
from inferlane.stages.route.policy import Matcher, Route
from inferlane.stages.route.rewrite import Rewrite

if TYPE_CHECKING:
    from inferlane.config.routes import BodyMatch, HeaderMatch, RouteRewrite
    from inferlane.config.schema import ProxyConfig, RouteConfig


def routes_from(config: ProxyConfig) -> tuple[tuple[Route, ...], Route]:
    """The ordered route table and the default route (to the default backend) from config."""
    default_backend = config.default_backend_name
    table = compile_routes(config.routing.endpoints, default_backend)
    return table, Route(name="default", backend=default_backend)


def compile_routes(routes: Sequence[RouteConfig], default_backend: str | None) -> tuple[Route, ...]:
    return tuple(compile_route(r, default_backend) for r in routes)


def compile_route(config: RouteConfig, default_backend: str | None) -> Route:
    tokens = config.prompt_tokens
    band = None
    if tokens is not None:
        label = tokens.name or config.display_name
        band = TokenBand(tokens.min, tokens.max, label, tokens.tokenizer)
    matcher = Matcher(
        path=config.path,
        prefix=config.path_prefix,
        methods=frozenset(m.upper() for m in config.methods),
        headers=tuple(sorted((_header(n, m) for n, m in config.headers.items()), key=lambda c: c.name)),
        models=tuple(config.models),
        body=tuple(sorted((_body(p, m) for p, m in config.body.items()), key=lambda c: c.path)),
        tokens=band,
    )
    return Route(
        name=config.display_name,
        backend=config.backend or default_backend,
        matcher=matcher,
        timeout=config.timeout,
        rewrite=_rewrite(config.rewrite, config.path_prefix) if config.rewrite is not None else None,
        translate=config.translate,
    )


def _header(name: str, match: HeaderMatch) -> HeaderCondition:
    name = name.lower()
    if match.exact is not None:
        return HeaderCondition(name, "exact", match.exact)
    if match.prefix is not None:
        return HeaderCondition(name, "prefix", match.prefix)
    if match.regex is not None:
        return HeaderCondition(name, "regex", match.regex)
    return HeaderCondition(name, "present" if match.present else "absent")


def _body(path: str, match: BodyMatch) -> BodyCondition:
    parts = tuple(path.split("."))
    if match.present is not None:
        return BodyCondition(parts, "present" if match.present else "absent")
    return BodyCondition(parts, "equals", match.equals)


def _rewrite(config: RouteRewrite, matched_prefix: str | None) -> Rewrite:
    headers = config.request_headers
    return Rewrite(
        path=config.path,
        path_prefix=config.path_prefix,
        matched_prefix=matched_prefix,
        model=config.model,
        header_add=tuple(headers.add.items()),
        header_set=tuple(headers.set.items()),
        header_remove=tuple(headers.remove),
    )
