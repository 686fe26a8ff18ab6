"""Builds the route stage from config: the compiled table, the token counters (local tokenizers loaded
only when a token-range route exists), and the decision metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferlane.stages.route.compile import routes_from
from inferlane.stages.route.policy import Route
from inferlane.stages.route.stage import RouteStage
from inferlane.stages.translate.stage import translate_stage
from inferlane.tokens.counter import LocalTokenizer, TokenCounter, TokenCounters

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig
    from inferlane.observability.metrics import ProxyMetrics
    from inferlane.pipeline.context import RequestContext
    from inferlane.pipeline.registry import BuildContext
    from inferlane.server.edge import FinishedHook


__all__ = ["counters_for", "route_latency_hook", "route_stage", "translate_stage"]


def route_stage(build: BuildContext) -> RouteStage:
    table, default = routes_from(build.config)
    counters = counters_for(build.config, table)
    return RouteStage(table, default, counters, build.metrics.route_decision)


def counters_for(config: ProxyConfig, table: tuple[Route, ...]) -> TokenCounters:
    """Token counters; local tokenizers are loaded only when some route has a token range."""
    if not any(route.matcher.tokens is not None for route in table):
        return TokenCounters()
    return token_counters(config)


def token_counters(config: ProxyConfig) -> TokenCounters:
    named: dict[str, TokenCounter] = {
        t.name: LocalTokenizer.from_file(t.name, t.path) for t in config.routing.tokenizers
    }
    by_model = tuple((tuple(t.models), named[t.name]) for t in config.routing.tokenizers if t.models)
    return TokenCounters(named, by_model)


def route_latency_hook(metrics: ProxyMetrics) -> FinishedHook:
    """Observes ``ai_router_request_latency_seconds{model_size}`` for every routed request."""
    histogram = metrics.route_latency

    def observe(ctx: RequestContext | None, status: int, error_kind: str, seconds: float) -> None:
        if ctx is not None and ctx.route != "-":
            histogram.labels(ctx.extra.get("token_range", "-")).observe(seconds)

    return observe
