"""Builds the route stage from config: the compiled table, the token counters (local tokenizers loaded
only when a token-range route exists), and the decision metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferlane.stages.route.compile import routes_from
from inferlane.stages.route.policy import Route
from inferlane.stages.route.stage import RouteStage
from inferlane.stages.translate.stage import translate_stage
from inferlane.tokens.counter import TokenCounter, TokenCounters, TokenizerCache

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig
    from inferlane.pipeline.registry import BuildContext


__all__ = ["RouteStageFactory", "translate_stage"]


class RouteStageFactory:
    """Builds the route stage for each pipeline of one app; keeps loaded tokenizers across reloads."""

    def __init__(self) -> None:
        self.tokenizers = TokenizerCache()

    def __call__(self, build: BuildContext) -> RouteStage:
        table, default = routes_from(build.config)
        counters = self.counters(build.config, table)
        return RouteStage(table, default, counters, build.metrics.route_decision)

    def counters(self, config: ProxyConfig, table: tuple[Route, ...]) -> TokenCounters:
        """Token counters; local tokenizers are loaded only when some route has a token range."""
        declared = config.routing.tokenizers
        if not any(route.matcher.tokens is not None for route in table):
            declared = []
        self.tokenizers.keep_only({t.path for t in declared})
        named: dict[str, TokenCounter] = {t.name: self.tokenizers.load(t.name, t.path) for t in declared}
        by_model = tuple((tuple(t.models), named[t.name]) for t in declared if t.models)
        return TokenCounters(named, by_model)
