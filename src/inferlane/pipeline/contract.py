"""The stage contract every capability plugs into.

* A **decide** stage looks at the request and either annotates the context (route, backend, rewrites)
  and returns ``None`` to continue, or answers locally with a :class:`ProxyResponse` (auth failure,
  rate limit, cached answer). Decide stages run in order.
* An **interceptor** wraps the upstream call: it receives the context and ``call_next`` and returns the
  response (retry, breaker, batching, metrics). The first interceptor is the outermost one.
* The **terminal** handler performs the upstream call (endpoint picking + HTTP).

Stages are built from config by factories registered in :mod:`inferlane.pipeline.registry`; the server
knows nothing about them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext

Handler = Callable[[RequestContext], Awaitable[ProxyResponse]]


class Decide(Protocol):
    name: str

    async def decide(self, ctx: RequestContext) -> ProxyResponse | None: ...


class Interceptor(Protocol):
    name: str

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse: ...
