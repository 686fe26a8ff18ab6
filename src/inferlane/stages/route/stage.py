"""The route decide stage: matches the route table (counting prompt tokens only when a route needs them,
big prompts off the event loop), then sets the route, backend, deadline and rewrites on the context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import orjson

from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.stages.route.policy import RequestFacts, Route, first_match
from inferlane.stages.route.rewrite import (
    Rewrite,
    rewritten_body,
    rewritten_headers,
    upstream_target,
    without,
)
from inferlane.tokens.counter import TokenCounters
from inferlane.tokens.prompt import prompt_of

TOKEN_RANGE = "x-token-range"
#: (model_size, model_name) of each decision, for the seed's ``ai_router_route_decision_total``
DecisionHook = Callable[[str, str], None]


class RouteStage:
    name = "route"

    def __init__(
        self,
        table: tuple[Route, ...],
        default: Route,
        counters: TokenCounters | None = None,
        on_decision: DecisionHook | None = None,
    ) -> None:
        self.table = table
        self.default = default
        self.counters = counters or TokenCounters()
        self.on_decision = on_decision
        #: the table routes on token ranges, so ``x-token-range`` upstream is ours alone to set
        self.ranges = any(route.matcher.tokens is not None for route in table)

    async def decide(self, ctx: RequestContext) -> ProxyResponse | None:
        request = ctx.request
        facts = RequestFacts(request.method, request.path, request.headers, ctx.model, ctx.json)
        counts: dict[str | None, int | None] = {}
        if ctx.prompt_tokens is not None:
            counts[None] = ctx.prompt_tokens
        found = first_match(self.table, self.default, facts, counts)
        while not isinstance(found, Route):
            counts[found.tokenizer] = await self._count(ctx, found.tokenizer)
            found = first_match(self.table, self.default, facts, counts, found.index)
        route = found
        ctx.route = route.name
        # no backend here may still get one from the registry (split); the upstream call says if not
        ctx.backend = route.backend
        ctx.response_headers["x-inferlane-route"] = route.name
        if route.timeout is not None:
            ctx.deadline = min(ctx.deadline, ctx.started + route.timeout)
            ctx.attempt_deadline = ctx.deadline
        band = route.matcher.tokens
        if band is not None:
            ctx.prompt_tokens = counts[band.tokenizer]
            ctx.response_headers[TOKEN_RANGE] = band.label
            ctx.upstream_headers[TOKEN_RANGE] = band.label  # as the seed's Istio routes expect it
            ctx.token_range = band.label
        else:
            if counts.get(None) is not None:
                ctx.prompt_tokens = counts[None]
            if self.ranges and TOKEN_RANGE in request.headers:  # a client must not pick the range
                ctx.request = replace(request, headers=without(request.headers, TOKEN_RANGE))
        if route.rewrite is not None:
            apply_rewrite(ctx, route.rewrite)
        if route.translate is not None:
            ctx.extra["translate"] = route.translate
        if self.on_decision is not None:
            self.on_decision(route.token_range, ctx.model or "-")
        return None

    async def _count(self, ctx: RequestContext, tokenizer: str | None) -> int | None:
        prompt = prompt_of(ctx.json)
        if prompt is None:
            return None
        counter = self.counters.pick(tokenizer, ctx.model)
        limit = counter.offload_chars
        if limit is not None and prompt.chars > limit:
            return await asyncio.get_running_loop().run_in_executor(None, counter.count, prompt)
        return counter.count(prompt)


def apply_rewrite(ctx: RequestContext, rewrite: Rewrite) -> None:
    """Path, headers and model rewrites; the body is re-encoded only when the model actually changes."""
    ctx.upstream_path = upstream_target(ctx.upstream_path, rewrite)
    if rewrite.edits_headers:
        ctx.request = replace(ctx.request, headers=rewritten_headers(ctx.request.headers, rewrite))
    body = rewritten_body(ctx.json, rewrite.model)
    if body is not None:
        ctx.json = body
        ctx.model = rewrite.model
        ctx.body = orjson.dumps(body)
