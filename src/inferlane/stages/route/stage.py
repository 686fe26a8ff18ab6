"""The route decide stage: sets the context's route, backend and deadline."""

from __future__ import annotations

from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.stages.route.policy import Route, match


class RouteStage:
    name = "route"

    def __init__(self, table: tuple[Route, ...], default: Route) -> None:
        self.table = table
        self.default = default

    async def decide(self, ctx: RequestContext) -> ProxyResponse | None:
        route = match(self.table, self.default, ctx.request.path, ctx.model)
        ctx.route = route.name
        # no backend here may still get one from the registry (split); the upstream call says if not
        ctx.backend = route.backend
        if route.timeout is not None:
            ctx.deadline = min(ctx.deadline, ctx.started + route.timeout)
            ctx.attempt_deadline = ctx.deadline
        return None
