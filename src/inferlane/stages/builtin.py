"""Registration of the built-in stage types with their canonical order."""

from __future__ import annotations

from inferlane.config.schema import RetryConfig
from inferlane.observability.accounting import accounting_stage
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.registry import BuildContext, Stage, StageRegistry, StageSpec
from inferlane.stages.admission.stage import AdmissionStage
from inferlane.stages.batching.stage import build_batching
from inferlane.stages.fallback.build import fallback_stage
from inferlane.stages.mirror.build import mirror_stage
from inferlane.stages.retry.policy import RetryBudget, RetryPolicy
from inferlane.stages.retry.stage import RetryStage
from inferlane.stages.route.factory import RouteStageFactory, translate_stage
from inferlane.stages.split.build import split_stage


def register_builtin(registry: StageRegistry) -> None:
    # decide stages, in order
    registry.register(StageSpec("route", "decide", 300, RouteStageFactory()))
    registry.register(StageSpec("split", "decide", 400, split_stage))
    registry.register(StageSpec("admission", "decide", 500, _admission))
    # interceptors, outermost first
    registry.register(StageSpec("metrics", "interceptor", 100, accounting_stage))
    registry.register(StageSpec("translate", "interceptor", 150, translate_stage))
    registry.register(StageSpec("mirror", "interceptor", 250, mirror_stage))
    registry.register(StageSpec("fallback", "interceptor", 300, fallback_stage))
    registry.register(StageSpec("retry", "interceptor", 400, _retry))
    registry.register(StageSpec("batching", "interceptor", 500, _batching))


def _admission(build: BuildContext) -> Stage | None:
    config = build.config.admission
    return AdmissionStage(config, build.backends, build.metrics) if config.enabled else None


def retry_policy(config: RetryConfig) -> RetryPolicy:
    return RetryPolicy(
        attempts=config.attempts,
        conditions=config.conditions,
        retriable_status_codes=frozenset(config.retriable_status_codes),
        base_interval=config.backoff.base_interval,
        max_interval=config.backoff.max_interval,
    )


def _retry(build: BuildContext) -> Stage | None:
    config = build.config
    routes = config.routing.endpoints
    if config.retry.attempts == 0 and all(r.retry is None or r.retry.attempts == 0 for r in routes):
        return None
    per_route = {r.display_name: retry_policy(r.retry) for r in routes if r.retry is not None}
    per_try = {r.display_name: (r.retry or config.retry).per_try_timeout for r in routes}
    per_try["default"] = config.retry.per_try_timeout
    b = config.retry.budget
    budgets = {name: RetryBudget(b.retry_ratio, b.min_retries_per_second, b.ttl) for name in build.backends}
    metrics = build.metrics

    def on_retry(ctx: RequestContext, reason: str) -> None:
        metrics.retries.labels(ctx.route, ctx.backend or "-", reason).inc()

    return RetryStage(retry_policy(config.retry), per_route, per_try, budgets, build.rng, on_retry)


def _batching(build: BuildContext) -> Stage | None:
    return build_batching(build.config, build.metrics)
