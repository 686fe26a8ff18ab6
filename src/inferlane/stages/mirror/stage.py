"""The ``mirror`` interceptor: fire-and-forget shadow copies that never touch the primary response.

The copy is taken before the primary call (so a fallback cannot change it), sent by an App-owned task
through the target backend's pool and client (its timeouts, breaker and connection limits apply), read to
the end and thrown away. At most ``maxConcurrent`` copies per model are in flight; beyond that a copy is
dropped and counted. The primary never waits for, or sees, any of it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import orjson

from inferlane.errors import InferlaneError
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.registry.model import Mirror, Model
from inferlane.stages.mirror.policy import has_room, result_of_error, result_of_status, should_mirror
from inferlane.stages.split.assign import MODEL_KEY
from inferlane.upstream.backend import Backend

#: (model, result, seconds or None when nothing was sent) of each shadow copy, for metrics
MirrorHook = Callable[[str, str, float | None], None]
Spawn = Callable[[Coroutine[Any, Any, Any], str], object]
SHADOW_HEADER = "x-inferlane-shadow"


class MirrorStage:
    name = "mirror"

    def __init__(
        self, backends: Mapping[str, Backend], rng: random.Random, spawn: Spawn, on_result: MirrorHook
    ) -> None:
        self.backends = backends
        self.rng = rng
        self.spawn = spawn
        self.on_result = on_result
        #: shadow copies in flight per model
        self.in_flight: dict[str, int] = {}

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        model = ctx.extra.get(MODEL_KEY)
        if isinstance(model, Model) and model.mirror is not None:
            self._copy(ctx, model, model.mirror)
        return await call_next(ctx)

    def _copy(self, ctx: RequestContext, model: Model, mirror: Mirror) -> None:
        if not should_mirror(mirror.percent, self.rng):
            return
        if not has_room(self.in_flight.get(model.name, 0), mirror.max_concurrent):
            self.on_result(model.name, "dropped", None)
            return
        shadow = self._shadow(ctx, model, mirror)
        backend = self.backends.get(shadow.backend or "")
        if backend is None:
            self.on_result(model.name, "failure", None)
            return
        self.in_flight[model.name] = self.in_flight.get(model.name, 0) + 1
        self.spawn(
            self._send(shadow, backend, model.name, self._rename(ctx, model, mirror)), f"mirror:{model.name}"
        )

    def _rename(self, ctx: RequestContext, model: Model, mirror: Mirror) -> dict[str, Any] | None:
        """A shallow copy of the body with the mirror version's served name, encoded later in the task."""
        if mirror.version is None or ctx.json is None:
            return None
        served = model.served_name(model.version(mirror.version))
        return {**ctx.json, "model": served} if ctx.json.get("model") != served else None

    def _shadow(self, ctx: RequestContext, model: Model, mirror: Mirror) -> RequestContext:
        now = asyncio.get_running_loop().time()
        shadow = RequestContext(ctx.request, ctx.request_id, now, now + mirror.timeout)
        shadow.upstream_path = ctx.upstream_path
        shadow.upstream_headers = {**ctx.upstream_headers, SHADOW_HEADER: "true"}
        shadow.route = ctx.route
        shadow.body = ctx.body
        if mirror.backend is not None:
            shadow.backend = mirror.backend
            return shadow
        version = model.version(mirror.version or "")
        shadow.backend = (version.backend if version is not None else None) or ctx.backend
        return shadow

    async def _send(
        self, shadow: RequestContext, backend: Backend, model: str, renamed: dict[str, Any] | None
    ) -> None:
        loop = asyncio.get_running_loop()
        result: str | None = None
        try:
            if renamed is not None:  # encoded here, off the primary's path
                shadow.body = orjson.dumps(renamed)
            async with asyncio.timeout(shadow.deadline - loop.time()):
                state = backend.pool.pick()
                shadow.endpoint = state.endpoint
                response = await backend.client.send(shadow, backend.pool.lease(state))
                try:
                    if response.stream is not None:
                        async for _ in response.stream:
                            pass
                finally:
                    if response.close is not None:
                        await response.close()
                result = result_of_status(response.status)
        except (InferlaneError, TimeoutError) as error:
            result = result_of_error(error)
        finally:
            self.in_flight[model] -= 1
            if result is not None:  # None: cancelled at shutdown
                self.on_result(model, result, loop.time() - shadow.started)
