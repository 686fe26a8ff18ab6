"""Sending one batch: merge the callers' bodies, one upstream call through the inner interceptors, split
the answer back; bisect a batch that a bad item made fail.

* A batch of one whole request is not merged at all: the caller's own context goes through ``call_next``
  and the upstream's answer — any status, even a stream — is handed back untouched (no JSON work), which
  is what keeps an idle batcher free.
* A merged batch gets its own :class:`RequestContext` (the first caller's headers, the union of the
  callers' tried endpoints, the latest deadline) and each caller's context learns the endpoint it went to.
* 2xx: the answer is split with the protocol's merger; an answer that cannot be split (wrong number of
  results) fails every caller with a 502 — never a silent mix-up.
* 400/413/422: bisected (:mod:`.bisect`) so that only the bad callers get the upstream's error, each the
  error of a call that held only its own item; the others get their results.
* Any other status (5xx, 429, 401...) goes to every caller as the upstream sent it, and a transport error
  is raised for every caller, so the route's retry policy (outside the batcher) decides per caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from multidict import CIMultiDict

from inferlane.errors import InferlaneError
from inferlane.model import Headers, ProxyRequest, ProxyResponse
from inferlane.observability.observation import Observation
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.stages.batching.bisect import Bisection, bisectable
from inferlane.stages.batching.mergers.base import MergeError, Merger
from inferlane.stages.batching.observe import BatchObserver
from inferlane.stages.batching.queue import Item
from inferlane.upstream.answer import read_answer

#: a batch answer larger than this is an error rather than a memory hazard
MAX_ANSWER_BYTES = 256 * 1024 * 1024
_NOT_FORWARDED = frozenset({"accept-encoding", "content-length"})


@dataclass(frozen=True, slots=True)
class Answer:
    """One caller's part of a successful batch answer (parsed JSON), to be encoded by the caller."""

    value: Any
    status: int
    headers: Headers
    endpoint: Any


def copy_error(error: InferlaneError) -> InferlaneError:
    """A fresh instance per caller, so concurrent callers never share one traceback."""
    try:
        return type(error)(error.message, headers=error.headers)
    except TypeError:
        return error


def _compressed(headers: Headers) -> bool:
    return any(k.lower() == "content-encoding" and v.lower() != "identity" for k, v in headers)


class Dispatcher:
    def __init__(self, merger: Merger, call_next: Handler, observer: BatchObserver) -> None:
        self.merger = merger
        self.call_next = call_next
        self.observer = observer

    async def run(self, items: Sequence[Item]) -> None:
        await self._send(items, Bisection())

    async def _send(self, items: Sequence[Item], bisection: Bisection) -> None:
        live = [item for item in items if item.alive]
        if not live:
            return
        if len(live) == 1 and live[0].whole:
            await self._alone(live[0])
            return
        try:
            merged = self.merger.merge([item.body for item in live])
            payload = orjson.dumps(merged)
        except (ValueError, KeyError, TypeError, IndexError, orjson.JSONEncodeError):
            if len(live) == 1:
                live[0].fail(MergeError("batching: this request could not be prepared for its model server"))
                return
            await asyncio.gather(*(self._send([item], bisection) for item in live))
            return
        ctx = batch_context(live, merged, payload)
        observed = [obs for item in live if (obs := item.ctx.observation) is not None]
        started = observed[0].observer.clock() if observed else 0.0
        try:
            response = await self.call_next(ctx)
        except InferlaneError as error:
            _observe_batch(observed, started, live, ctx, error.status, error.kind)
            self.observer.failure("upstream")
            for item in live:
                item.fail(copy_error(error))
            return
        _observe_batch(observed, started, live, ctx, response.status, "")
        for item in live:
            _learn(item.ctx, ctx)
        await self._answer(live, response, bisection)

    async def _alone(self, item: Item) -> None:
        try:
            item.resolve(await self.call_next(item.ctx))
        except InferlaneError as error:
            item.fail(error)

    async def _answer(self, live: list[Item], response: ProxyResponse, bisection: Bisection) -> None:
        try:
            raw = await read_answer(
                response, MAX_ANSWER_BYTES, MergeError, "batching: the upstream's batch answer"
            )
        except InferlaneError as error:
            self.observer.failure("upstream")
            for item in live:
                item.fail(copy_error(error))
            return
        status, headers = response.status, response.headers
        if 200 <= status < 300:
            try:
                if _compressed(headers):
                    raise MergeError("batching: the upstream compressed a batch answer it was not asked to")
                parts = self.merger.split(orjson.loads(raw), [item.body for item in live])
            except (MergeError, orjson.JSONDecodeError, ValueError, KeyError, TypeError) as error:
                self.observer.failure("mismatch")
                message = error.message if isinstance(error, MergeError) else "not JSON it could split"
                for item in live:
                    item.fail(MergeError(f"batching: cannot split the upstream's batch answer: {message}"))
                return
            for item, part in zip(live, parts, strict=True):
                item.resolve(Answer(part, status, headers, response.endpoint))
            return
        if bisectable(status) and len(live) > 1:
            self.observer.bisection()
            step = bisection.failed(range(len(live)))
            for index in step.fail:
                live[index].resolve(_copy(response, raw))
            await asyncio.gather(
                *(self._send([live[index] for index in half], bisection) for half in step.send)
            )
            return
        self.observer.failure("status")
        for item in live:
            item.resolve(_copy(response, raw))


def _observe_batch(
    observed: list[Observation],
    started: float,
    items: Sequence[Item],
    ctx: RequestContext,
    status: int,
    error_kind: str,
) -> None:
    """The merged upstream call, for each caller's observation: its time counts as the caller's upstream
    time (not proxy overhead), and a traced caller gets a ``batch`` span."""
    if not observed:
        return
    ended = observed[0].observer.clock()
    attributes: dict[str, str | int] | None = None
    for obs in observed:
        obs.upstream_s += ended - started
        if obs.trace is None:
            continue
        if attributes is None:
            attributes = {
                "inferlane.batch.requests": len(items),
                "inferlane.batch.size": sum(item.size for item in items),
                "http.response.status_code": status,
            }
            if ctx.endpoint is not None:
                attributes["server.address"] = ctx.endpoint.authority
            if error_kind:
                attributes["error.type"] = error_kind
        obs.trace.add_span("batch", started, ended, attributes)


def _copy(response: ProxyResponse, body: bytes) -> ProxyResponse:
    return ProxyResponse(response.status, list(response.headers), body=body, endpoint=response.endpoint)


def _learn(caller: RequestContext, batch: RequestContext) -> None:
    """The caller's context records the attempt its batch made (for logs, metrics and retries)."""
    caller.endpoint = batch.endpoint
    for endpoint in batch.tried:
        if endpoint not in caller.tried:
            caller.tried.append(endpoint)
    caller.attempts += batch.attempts
    caller.response_headers.update(batch.response_headers)


def batch_context(items: Sequence[Item], merged: dict[str, Any], payload: bytes) -> RequestContext:
    first = items[0].ctx
    request = first.request
    headers: CIMultiDict[str] = CIMultiDict(
        (k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED
    )
    batch_request = ProxyRequest(
        method=request.method,
        path=request.path,
        target=first.upstream_path,
        headers=headers,
        body=payload,
        client_ip=request.client_ip,
        received_at=request.received_at,
    )
    deadline = max(item.ctx.deadline for item in items)
    ctx = RequestContext(batch_request, first.request_id, first.started, deadline, merged)
    ctx.attempt_deadline = max(item.ctx.attempt_deadline for item in items)
    ctx.route, ctx.backend, ctx.upstream_path = first.route, first.backend, first.upstream_path
    ctx.model, ctx.version, ctx.requested_model = first.model, first.version, first.requested_model
    ctx.upstream_headers = dict(first.upstream_headers)
    ctx.body = payload
    for item in items:
        for endpoint in item.ctx.tried:
            if endpoint not in ctx.tried:
                ctx.tried.append(endpoint)
    ctx.extra["batch_callers"] = len(items)
    return ctx
