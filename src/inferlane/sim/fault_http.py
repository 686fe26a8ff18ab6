"""Where faults meet HTTP: the middleware that fails requests before headers, and the helpers that break a
body or a stream part-way (stall, connection reset)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from inferlane.sim.context import ReplicaContext
from inferlane.sim.faults import NO_FAULT, OOM_MESSAGE, FaultPlan, plan_faults
from inferlane.sim.problems import ENGINE_DEAD_MESSAGE, ApiError, error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAULT_KEY = web.RequestKey("sim_fault", FaultPlan)
_CONTROL_POSTS = frozenset(
    {
        "/sim/faults",
        "/sleep",
        "/wake_up",
        "/reset_prefix_cache",
        "/v1/load_lora_adapter",
        "/v1/unload_lora_adapter",
        "/tokenize",
        "/detokenize",
    }
)


def fault_of(request: web.Request) -> FaultPlan:
    plan: FaultPlan = request.get(FAULT_KEY, NO_FAULT)
    return plan


async def reset_after_flush(request: web.Request) -> None:
    """Reset the connection mid-body, after giving what was written a moment to reach the client
    (a reset discards data the peer has not read yet)."""
    await asyncio.sleep(0.05)
    reset_connection(request)


def reset_connection(request: web.Request) -> None:
    """Close the connection with a TCP reset (SO_LINGER 0), as a crashed server or a proxy would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: the abort below is all that is left to do
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def make_middleware(ctx: ReplicaContext) -> Middleware:
    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if ctx.phase != "ready" and request.path != "/sim/faults":
                raise ApiError(503, f"{ctx.name} is loading the model")
            if request.method != "POST" or request.path in _CONTROL_POSTS:
                return await handler(request)
            try:
                plan = plan_faults(ctx.faults.settings, request.headers.get("x-sim-fault"), ctx.rng)
            except ValueError as error:
                raise ApiError(400, str(error)) from None
            if plan is not NO_FAULT:
                early = await _before_headers(request, plan)
                if early is not None:
                    return early
                request[FAULT_KEY] = plan
            return await handler(request)
        except ApiError as error:
            return error_response(ctx.kind, error)

    return faults


async def _before_headers(request: web.Request, plan: FaultPlan) -> web.StreamResponse | None:
    if plan.latency:
        await asyncio.sleep(plan.latency)
    if plan.hang is not None:
        await asyncio.sleep(plan.hang)
        reset_connection(request)
        return web.Response(status=504)
    if plan.reset:
        reset_connection(request)
        return web.Response(status=502)
    if plan.dead:
        raise ApiError(500, ENGINE_DEAD_MESSAGE, "EngineDeadError")
    if plan.oom:
        raise ApiError(500, OOM_MESSAGE, "InternalServerError")
    if plan.status is not None:
        raise ApiError(plan.status, f"Simulated failure (HTTP {plan.status}) injected by the simulator.")
    return None


async def send_body(
    request: web.Request, body: bytes, headers: dict[str, str] | None = None, status: int = 200
) -> web.StreamResponse:
    """Send a JSON body, breaking it half-way if a mid-stream fault is planned."""
    plan = fault_of(request)
    if not plan.mid_stream:
        return web.Response(status=status, body=body, content_type="application/json", headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = "application/json"
    response.content_length = len(body)
    await response.prepare(request)
    half = len(body) // 2
    await response.write(body[:half])
    if plan.reset_mid_stream:
        await reset_after_flush(request)
        return response
    await asyncio.sleep(plan.stall or 0.0)
    await response.write(body[half:])
    await response.write_eof()
    return response
