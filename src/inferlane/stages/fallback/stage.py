"""The ``fallback`` interceptor: on failure, serve the request with the next fallback model.

It wraps retry, so a model's own retries come first. Only responses not yet handed to the edge are
replaced, so no byte of a failed answer ever reached the client. The response says who answered:
``x-inferlane-model`` (the fallback), ``x-inferlane-version`` and ``x-inferlane-fallback-from``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from inferlane.errors import InferlaneError
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.registry.model import Model
from inferlane.registry.registry import Registry
from inferlane.stages.fallback.policy import failure_of_error, failure_of_status, next_fallback
from inferlane.stages.split.assign import FIRST_CHOICE_KEY, MODEL_KEY, assign
from inferlane.stages.split.chooser import VersionChooser

#: (model, fallback model, reason) of each move, for metrics
FallbackHook = Callable[[str, str, str], None]


class FallbackStage:
    name = "fallback"

    def __init__(
        self, registry: Registry, chooser: VersionChooser, on_fallback: FallbackHook | None = None
    ) -> None:
        self.registry = registry
        self.chooser = chooser
        self.on_fallback = on_fallback

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        model = ctx.extra.get(MODEL_KEY)
        if not isinstance(model, Model) or not model.fallbacks:
            return await call_next(ctx)
        original, position = model, 0
        while True:
            response: ProxyResponse | None = None
            try:
                response = await call_next(ctx)
                reason = failure_of_status(response.status, response.body)
            except InferlaneError as error:
                reason = failure_of_error(error)
                if reason is None:
                    raise
                failed: InferlaneError | None = error
            else:
                if reason is None:
                    return response
                failed = None
            found = self._next(original, position, reason, ctx.request.path)
            if found is None or asyncio.get_running_loop().time() >= ctx.deadline:
                if failed is not None:
                    raise failed
                assert response is not None
                return response
            position, target = found
            if response is not None and response.close is not None:
                await response.close()
            self._switch(ctx, original, target, reason)

    def _next(self, original: Model, start: int, reason: str, path: str) -> tuple[int, Model] | None:
        """The next fallback for this failure (and position after it), skipping models not served on
        this path."""
        while (index := next_fallback(original.fallbacks, start, reason)) is not None:
            target = self.registry.get(original.fallbacks[index].model)
            start = index + 1
            if target is not None and (not target.allowed_endpoints or path in target.allowed_endpoints):
                return start, target
        return None

    def _switch(self, ctx: RequestContext, original: Model, target: Model, reason: str) -> None:
        chosen = self.chooser.choose(target, ctx.request.headers, ctx.json)
        ctx.extra.setdefault(FIRST_CHOICE_KEY, (original.name, ctx.version))
        assign(ctx, target, chosen[0] if chosen is not None else None)
        ctx.fallback_from = original.name
        ctx.response_headers["x-inferlane-fallback-from"] = original.name
        ctx.retries = 0
        ctx.attempt_deadline = ctx.deadline
        if self.on_fallback is not None:
            self.on_fallback(original.name, target.name, reason)
