"""The admission decide stage (order 500): classify the request, and when its backend's pool is saturated,
shed it (sheddable) or park it in the backend's priority queue until capacity frees up.

A waiter is woken by the gate's pump, which runs when an attempt on the backend ends (capacity freed) and
on a short tick while anyone waits (signals may change without a release). Each pump admits at most one
waiter per endpoint that is under its limits, so a freed pool is not stampeded before the admitted
requests show up in the in-flight counters. A waiter that times out gets 429 (503 when the backend has no
endpoint left); a client that hangs up leaves the queue at once (its handler is cancelled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from inferlane.config.picking import AdmissionConfig
from inferlane.errors import NoEndpointAvailable, Shed
from inferlane.model import ProxyResponse
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.stages.admission.queue import BANDS, AdmissionQueue, Waiter
from inferlane.upstream.backend import Backend
from inferlane.upstream.call import request_for_picking

CRITICALITY_HEADER = "x-inferlane-criticality"
PRIORITY_HEADER = "x-inferlane-priority"
REASON_HEADER = "x-inferlane-dropped-reason"
#: how often a non-empty queue re-checks saturation when no attempt ends
TICK_S = 0.02


def classify(ctx: RequestContext, config: AdmissionConfig) -> None:
    """Set ``ctx.criticality`` and ``ctx.priority``: header, else model, else tenant, else the default."""
    headers = ctx.request.headers
    wanted = headers.get(CRITICALITY_HEADER, "").strip().lower()
    if wanted not in BANDS:
        model, tenant = ctx.requested_model, ctx.tenant
        if model is not None and model in config.models:
            wanted = config.models[model]
        elif tenant is not None and tenant in config.tenants:
            wanted = config.tenants[tenant]
        else:
            wanted = config.default_criticality
    raw = headers.get(PRIORITY_HEADER, "").strip()
    if raw.removeprefix("-").isdigit():
        ctx.priority = max(-1000, min(1000, int(raw)))
    if ctx.priority < 0:
        wanted = "sheddable"  # GIE semantics: a negative priority is sheddable
    ctx.criticality = wanted


class BackendGate:
    """The admission queue of one backend and its pump."""

    def __init__(self, backend: Backend, config: AdmissionConfig, metrics: ProxyMetrics) -> None:
        self.backend = backend
        self.config = config
        self.metrics = metrics
        self.queue = AdmissionQueue(config.max_queue_size, config.tenant_fairness)
        self._ticker: asyncio.Task[None] | None = None
        self._depth = metrics.admission_queue_depth.labels(backend.name)

    async def admit(self, ctx: RequestContext) -> None:
        pool = self.backend.pool
        saturation = pool.saturation(request_for_picking(ctx, self.backend))
        if not saturation.saturated:
            if len(self.queue):
                self.pump()
            return
        if ctx.criticality == "sheddable":
            raise self._shed(ctx, "rejected-saturated", f"backend {self.backend.name!r} is saturated")
        loop = asyncio.get_running_loop()
        waiter = Waiter(BANDS[ctx.criticality], ctx.priority, ctx.tenant or "", loop.time())
        waiter.handle = loop.create_future()
        accepted, evicted = self.queue.push(waiter)
        if evicted is not None and not evicted.handle.done():
            evicted.handle.set_exception(
                self._shed(None, "evicted-queue-pressure", "evicted from the full admission queue")
            )
        if not accepted:
            limit = self.config.max_queue_size
            raise self._shed(ctx, "rejected-queue-full", f"admission queue full ({limit} waiting)")
        self._started()
        try:
            await self._wait(ctx, waiter, loop)
        finally:
            self.queue.remove(waiter)
            ctx.queued_s += loop.time() - waiter.enqueued_at
            self._depth.set(len(self.queue))

    async def _wait(self, ctx: RequestContext, waiter: Waiter, loop: asyncio.AbstractEventLoop) -> None:
        timeout = max(0.0, min(self.config.queue_timeout, ctx.deadline - loop.time()))
        outcome = "admitted"
        try:
            async with asyncio.timeout(timeout):
                await waiter.handle
        except TimeoutError:
            outcome = "timeout"
            self.queue.remove(waiter)
            if not self.backend.pool.live_states():
                self._count(ctx, "rejected-no-endpoints")
                raise NoEndpointAvailable(
                    f"no healthy upstream: backend {self.backend.name!r} has no endpoint "
                    f"(waited {timeout:g}s in the admission queue)"
                ) from None
            raise self._shed(
                ctx, "rejected-ttl-expired", f"waited {timeout:g}s in the admission queue"
            ) from None
        except Shed as error:
            outcome = "evicted"
            self._count(ctx, "evicted-queue-pressure")
            raise error from None
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            wait = loop.time() - waiter.enqueued_at
            self.metrics.admission_wait.labels(self.backend.name, ctx.criticality, outcome).observe(wait)

    def _shed(self, ctx: RequestContext | None, reason: str, why: str) -> Shed:
        if ctx is not None:
            self._count(ctx, reason)
        retry_after = max(1, round(self.config.retry_after))
        return Shed(
            f"request dropped by admission control: {why} ({reason})",
            headers={"Retry-After": str(retry_after), REASON_HEADER: reason},
        )

    def _count(self, ctx: RequestContext, reason: str) -> None:
        self.metrics.admission_rejected.labels(self.backend.name, ctx.criticality, reason).inc()

    def _started(self) -> None:
        self._depth.set(len(self.queue))
        if self._ticker is None or self._ticker.done():
            pool = self.backend.pool
            if self.pump not in pool.on_release:
                pool.on_release.append(self.pump)
            self._ticker = asyncio.get_running_loop().create_task(
                self._tick(), name=f"admission:{self.backend.name}"
            )

    async def _tick(self) -> None:
        """Runs only while someone waits; ends (and stops listening to releases) when the queue empties."""
        try:
            while len(self.queue):
                await asyncio.sleep(TICK_S)
                self.pump()
        finally:
            listeners = self.backend.pool.on_release
            if self.pump in listeners:
                listeners.remove(self.pump)

    def pump(self) -> None:
        """Admit waiters, most important first, while the pool has endpoints under their limits."""
        if not len(self.queue):
            return
        saturation = self.backend.pool.saturation()
        if saturation.saturated:
            return
        room = max(1, saturation.candidates - saturation.saturated_count)
        for _ in range(room):
            waiter = self.queue.pop()
            if waiter is None:
                break
            if not waiter.handle.done():
                waiter.handle.set_result(None)
        self._depth.set(len(self.queue))


class AdmissionStage:
    name = "admission"

    def __init__(
        self, config: AdmissionConfig, backends: Mapping[str, Backend], metrics: ProxyMetrics
    ) -> None:
        self.config = config
        self.gates = {name: BackendGate(backend, config, metrics) for name, backend in backends.items()}

    async def decide(self, ctx: RequestContext) -> ProxyResponse | None:
        classify(ctx, self.config)
        gate = self.gates.get(ctx.backend) if ctx.backend is not None else None
        if gate is not None:
            await gate.admit(ctx)
        return None
