"""The terminal handler: pick an endpoint of the context's backend and make one attempt.

Around the attempt it does the picking bookkeeping: the request's prompt is hashed once (retries reuse
it), the chosen endpoint is recorded in the prefix index and named in ``x-inferlane-endpoint``, its
in-flight prompt tokens are counted for the attempt's lifetime, vLLM's ORCA load header is asked for and
read back into the endpoint's signals, and (for a caller holding the admin token who sends
``x-inferlane-debug: scores``) the candidates' scores are returned in ``x-inferlane-endpoint-scores``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from inferlane.discovery.load_report import ORCA_REQUEST_HEADER, ORCA_RESPONSE_HEADER, parse_orca
from inferlane.errors import InferlaneError, NoHealthyEndpoint
from inferlane.model import ProxyResponse
from inferlane.picking.prompt import pick_request
from inferlane.picking.view import PickRequest
from inferlane.pipeline.context import RequestContext
from inferlane.upstream.backend import Backend
from inferlane.upstream.endpoint_state import EndpointState

PICK_KEY = "pick_request"
ENDPOINT_HEADER = "x-inferlane-endpoint"
SCORES_HEADER = "x-inferlane-endpoint-scores"
DEBUG_HEADER = "x-inferlane-debug"
ADMIN_TOKEN_HEADER = "x-inferlane-admin-token"


def request_for_picking(ctx: RequestContext, backend: Backend) -> PickRequest:
    """The request as picking sees it, built once per request (retries and admission reuse it)."""
    cached = ctx.extra.get(PICK_KEY)
    if isinstance(cached, PickRequest):
        return cached
    picking = backend.config.picking
    model = ctx.model or ""
    lora = None
    if model:
        for state in backend.pool.states.values():
            s = state.signals
            if model in s.loras_loaded or model in s.loras_waiting:
                lora = model
                break
    request = pick_request(
        model,
        ctx.json if backend.pool.picker.wants_prefix else None,
        lora=lora,
        session=ctx.request.headers.get(picking.session_header),
        prompt_tokens=ctx.prompt_tokens,
        max_bytes=picking.max_prefix_bytes,
    )
    ctx.extra[PICK_KEY] = request
    return request


class UpstreamCall:
    name = "upstream"

    def __init__(self, backends: Mapping[str, Backend], admin_token: str | None = None) -> None:
        self.backends = backends
        self.admin_token = admin_token

    async def __call__(self, ctx: RequestContext) -> ProxyResponse:
        backend = self.backends.get(ctx.backend) if ctx.backend is not None else None
        if backend is None:
            raise NoHealthyEndpoint(f"no backend configured for route {ctx.route!r}")
        total = backend.client.total_timeout
        if total is not None and not ctx.attempts:
            ctx.deadline = min(ctx.deadline, ctx.started + total)
            ctx.attempt_deadline = min(ctx.attempt_deadline, ctx.deadline)
        pool = backend.pool
        choice = pool.choose(ctx.tried, request_for_picking(ctx, backend))
        state = choice.state
        assert state is not None
        pool.picker.record(choice)
        ctx.tried.append(state.endpoint)
        ctx.endpoint = state.endpoint
        ctx.attempts += 1
        ctx.response_headers[ENDPOINT_HEADER] = state.endpoint.authority
        if self._debug(ctx):
            scores = ", ".join(f"{k.partition('/')[2]}={v:.3f}" for k, v in choice.result.scores.items())
            ctx.response_headers[SCORES_HEADER] = scores or "-"
        orca = backend.orca
        asked = ORCA_REQUEST_HEADER in ctx.request.headers
        if orca and not asked:
            ctx.upstream_headers[ORCA_REQUEST_HEADER] = "TEXT"
        lease = pool.lease(state, pool.picker.uncached_tokens(choice))
        obs = ctx.observation
        if obs is None:
            response = await backend.client.send(ctx, lease)
        else:  # timed (inline: no extra coroutine per request); when traced, a span id sent as traceparent
            started = obs.attempt_started(ctx)
            status, error_kind = 0, ""
            try:
                response = await backend.client.send(ctx, lease)
                status = response.status
            except InferlaneError as error:
                error_kind = error.kind
                raise
            finally:
                obs.attempt_ended(started, backend.name, state.endpoint, status, error_kind)
        if orca:
            self._read_orca(response, state, pool.clock(), keep=asked)
        return response

    def _debug(self, ctx: RequestContext) -> bool:
        headers = ctx.request.headers
        if self.admin_token is None or headers.get(DEBUG_HEADER) != "scores":
            return False
        supplied = headers.get(ADMIN_TOKEN_HEADER, "")
        return hmac.compare_digest(supplied.encode(), self.admin_token.encode())

    @staticmethod
    def _read_orca(response: ProxyResponse, state: EndpointState, now: float, *, keep: bool) -> None:
        headers = response.headers
        for i, (name, value) in enumerate(headers):
            if name.lower() == ORCA_RESPONSE_HEADER:
                report = parse_orca(value)
                if report is not None:
                    state.observe(report, now)
                if not keep:
                    del headers[i]
                return
