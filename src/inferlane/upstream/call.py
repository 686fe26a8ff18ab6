"""The terminal handler: pick an endpoint of the context's backend and make one attempt."""

from __future__ import annotations

from collections.abc import Mapping

from inferlane.errors import InferlaneError, NoHealthyEndpoint
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.upstream.backend import Backend


class UpstreamCall:
    name = "upstream"

    def __init__(self, backends: Mapping[str, Backend]) -> None:
        self.backends = backends

    async def __call__(self, ctx: RequestContext) -> ProxyResponse:
        backend = self.backends.get(ctx.backend) if ctx.backend is not None else None
        if backend is None:
            raise NoHealthyEndpoint(f"no backend configured for route {ctx.route!r}")
        total = backend.client.total_timeout
        if total is not None and not ctx.attempts:
            ctx.deadline = min(ctx.deadline, ctx.started + total)
            ctx.attempt_deadline = min(ctx.attempt_deadline, ctx.deadline)
        state = backend.pool.pick(ctx.tried)
        ctx.tried.append(state.endpoint)
        ctx.endpoint = state.endpoint
        ctx.attempts += 1
        lease = backend.pool.lease(state)
        obs = ctx.observation
        if obs is None:
            return await backend.client.send(ctx, lease)
        started = obs.attempt_started(ctx)  # timing; when traced, a span id sent as traceparent
        status, error_kind = 0, ""
        try:
            response = await backend.client.send(ctx, lease)
            status = response.status
            return response
        except InferlaneError as error:
            error_kind = error.kind
            raise
        finally:
            obs.attempt_ended(started, backend.name, state.endpoint, status, error_kind)
