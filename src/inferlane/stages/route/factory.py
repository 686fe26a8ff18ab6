"""Builds the route stage from config: the compiled table, the token counters (local tokenizers loaded
only when a token-range route exists), and the decision metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferlane.stages.route.compile import routes_from
from inferlane.stages.route.stage import RouteStage
from inferlane.tokens.counter import LocalTokenizer, TokenCounter, TokenCounters

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig
    from inferlane.observability.metrics import ProxyMetrics
    from inferlane.pipeline.context import RequestContext
    from inferlane.pipeline.registry import BuildContext
    from inferlane.server.edge import FinishedHook


def route_stage(build: BuildContext) -> RouteStage:
    table, default = routes_from(build.config)
    counting = any(route.matcher.tokens is not None for route in table)
    counters = token_counters(build.config) if counting else TokenCounters()
    return RouteStage(table, default, counters, build.metrics.route_decision)


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
