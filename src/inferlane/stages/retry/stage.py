"""The retry interceptor: the async shell around the pure retry policy and budget.

Retries happen only before a response is handed to the edge, so never after the first byte went to
the client. Each retry picks another endpoint (the terminal excludes tried ones), waits a jittered
backoff (or the upstream's ``Retry-After``) that must fit before the deadline, and spends the backend's
retry budget so a sick fleet is not hammered.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping

from inferlane.errors import (
    ConnectTimeout,
    FirstByteTimeout,
    InferlaneError,
    TotalTimeout,
    UpstreamConnectError,
    UpstreamError,
)
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.stages.retry.policy import (
    Failure,
    Outcome,
    RetryBudget,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    should_retry,
)

RetryHook = Callable[[RequestContext, str], None]


def failure_of(error: InferlaneError) -> Failure | None:
    if isinstance(error, UpstreamConnectError | ConnectTimeout):
        return Failure.CONNECT
    if isinstance(error, FirstByteTimeout):
        return Failure.TIMEOUT
    if isinstance(error, UpstreamError):
        return Failure.RESET
    return None


def _retry_after(response: ProxyResponse) -> float | None:
    for name, value in response.headers:
        if name.lower() == "retry-after":
            return parse_retry_after(value, time.time())
    return None


class RetryStage:
    name = "retry"

    def __init__(
        self,
        default: RetryPolicy,
        per_route: Mapping[str, RetryPolicy],
        per_try_timeout: Mapping[str, float | None],
        budgets: Mapping[str, RetryBudget],
        rng: random.Random,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.default = default
        self.per_route = per_route
        self.per_try_timeout = per_try_timeout
        self.budgets = budgets
        self.rng = rng
        self.on_retry = on_retry

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        policy = self.per_route.get(ctx.route, self.default)
        per_try = self.per_try_timeout.get(ctx.route)
        loop = asyncio.get_running_loop()
        budget = self.budgets.get(ctx.backend or "")
        if budget is not None:
            budget.record_request(loop.time())
        while True:
            if per_try is not None:
                ctx.attempt_deadline = min(ctx.deadline, loop.time() + per_try)
            response: ProxyResponse | None = None
            try:
                response = await call_next(ctx)
                outcome = Outcome(status=response.status)
                if should_retry(policy, ctx.retries, outcome):  # only then is Retry-After worth parsing
                    outcome = Outcome(status=response.status, retry_after=_retry_after(response))
            except InferlaneError as error:
                failure = failure_of(error)
                if failure is None or isinstance(error, TotalTimeout):
                    raise
                outcome, pending_error = Outcome(failure=failure), error
            if not should_retry(policy, ctx.retries, outcome):
                if response is None:
                    raise pending_error
                return response
            now = loop.time()
            delay = backoff_delay(policy, ctx.retries, self.rng, outcome.retry_after)
            fits = now + delay < ctx.deadline
            if not fits or (budget is not None and not budget.try_spend(now)):
                if response is None:
                    raise pending_error
                return response
            if response is not None and response.close is not None:
                await response.close()
            reason = str(outcome.status) if outcome.status is not None else outcome.failure.value  # type: ignore[union-attr]
            if self.on_retry is not None:
                self.on_retry(ctx, reason)
            ctx.retries += 1
            await asyncio.sleep(delay)
