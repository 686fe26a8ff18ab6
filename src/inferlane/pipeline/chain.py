"""The built pipeline: decide stages in order, then interceptors composed around the terminal call."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence

from inferlane.config.schema import ProxyConfig
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Decide, Handler, Interceptor
from inferlane.upstream.backend import Backend


def compose(interceptors: Sequence[Interceptor], terminal: Handler) -> Handler:
    handler = terminal
    for interceptor in reversed(interceptors):
        handler = _link(interceptor, handler)
    return handler


def _link(interceptor: Interceptor, call_next: Handler) -> Handler:
    """``interceptor`` around ``call_next``: a closure, ~30% cheaper per call than a keyword ``partial``."""
    intercept = interceptor.intercept

    def handler(ctx: RequestContext) -> Awaitable[ProxyResponse]:
        return intercept(ctx, call_next)

    return handler


class Pipeline:
    def __init__(
        self,
        config: ProxyConfig,
        decides: Sequence[Decide],
        interceptors: Sequence[Interceptor],
        terminal: Handler,
        backends: Mapping[str, Backend],
        generation: int,
    ) -> None:
        self.config = config
        self.decides = tuple(decides)
        self.interceptors = tuple(interceptors)
        self.handler = compose(self.interceptors, terminal)
        self.backends = backends
        self.generation = generation
        #: requests currently using this pipeline (the old one retires when it reaches 0)
        self.in_flight = 0

    async def handle(self, ctx: RequestContext) -> ProxyResponse:
        for stage in self.decides:
            answer = await stage.decide(ctx)
            if answer is not None:
                return answer
        return await self.handler(ctx)

    @property
    def ready(self) -> bool:
        return all(backend.pool.ready for backend in self.backends.values())

    def describe(self) -> dict[str, list[str]]:
        return {
            "decide": [stage.name for stage in self.decides],
            "interceptors": [stage.name for stage in self.interceptors],
        }
