"""The ``batching`` interceptor (order 500): requests of batching routes wait in a queue per compatibility
key and go upstream merged; everything else passes straight through.

The key is (backend, upstream path, model, version, credentials, headers set by routing, the merger's key):
requests that differ in any of these never share a call — and a request with no merger key (streaming,
``n > 1``, malformed) is not batched at all, so the model server judges it alone. A request larger than
``maxBatchSize`` is split into parts, each queued like a request of its own, and its answer is reassembled
in order. A request that finds its queue idle makes its own upstream call at once (see ``queue.py``).

The caller waits until its deadline (the route timeout, the retry's per-try timeout, or
``batching.itemTimeout`` when shorter); past it, 504 ``timeout waiting for batch completion``. A caller
that leaves (client gone) is dropped from its queue, or — when its batch is already out and it was the
last caller waiting for it — cancels the batch's upstream call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Sequence
from typing import Any

import orjson

from inferlane.config.schema import ProxyConfig
from inferlane.errors import InferlaneError
from inferlane.model import ProxyResponse
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.stages.batching.dispatch import Answer, Dispatcher
from inferlane.stages.batching.mergers import Merger, merger_for
from inferlane.stages.batching.observe import BatchObserver
from inferlane.stages.batching.plan import (
    GENERATION,
    BatchPlan,
    batching_notes,
    model_from_path,
    plan_from,
    protocol_for_path,
)
from inferlane.stages.batching.policy import BatchSettings
from inferlane.stages.batching.queue import BatchQueue, Item, timeout_error

#: queues kept before idle ones are forgotten (an unusual key mix must not grow memory without bound)
MAX_QUEUES = 1024
#: distinct ``model`` label values the batching metrics take before the rest count as ``other``
MAX_MODEL_LABELS = 64
#: bytes of request body per token, for ``maxRequestTokens`` (an estimate; no tokenizer on this path)
BYTES_PER_TOKEN = 4
log = logging.getLogger("inferlane.batching")
_CREDENTIALS = ("authorization", "x-api-key", "api-key")


class BatchingStage:
    name = "batching"

    def __init__(self, plan: BatchPlan, metrics: ProxyMetrics) -> None:
        self.plan = plan
        self.metrics = metrics
        self.queues: dict[Hashable, BatchQueue] = {}
        self.observers: dict[str, BatchObserver] = {}
        self.mergers: dict[str, Merger] = {}

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        route = self.plan.routes.get(ctx.route)
        if route is None or ctx.stream or ctx.json is None:
            return await call_next(ctx)
        protocol = route.protocol or protocol_for_path(ctx.upstream_path)
        if protocol is None or (protocol in GENERATION and route.continuous_engine):
            return await call_next(ctx)
        body = ctx.json if ctx.body is ctx.request.body else _parsed(ctx.body)
        merger = self.mergers.get(protocol) or self.mergers.setdefault(protocol, merger_for(protocol))
        merge_key = merger.key(body) if body is not None else None
        path_model, path_version = model_from_path(ctx.upstream_path)
        model = ctx.model or path_model
        settings = self.plan.settings(route, model) if merge_key is not None else None
        if body is None or merge_key is None or settings is None:
            return await call_next(ctx)
        headers = ctx.request.headers
        key = (
            ctx.backend,
            ctx.upstream_path,
            model,
            ctx.version or path_version,
            tuple(headers.get(name) for name in _CREDENTIALS),
            tuple(sorted(ctx.upstream_headers.items())) if ctx.upstream_headers else (),
            merge_key,
        )
        queue = self.queues.get(key)
        if queue is None:
            queue = self._queue(key, settings, merger, call_next, model or "-")
        return await self._wait(ctx, body, merger, queue, call_next)

    def _queue(
        self, key: Hashable, settings: BatchSettings, merger: Merger, call_next: Handler, model: str
    ) -> BatchQueue:
        if len(self.queues) >= MAX_QUEUES:
            for old in [k for k, q in self.queues.items() if q.idle]:
                del self.queues[old]
        if model not in self.observers and len(self.observers) >= MAX_MODEL_LABELS:
            model = "other"  # model names come from request bodies: keep the label set bounded
        observer = self.observers.get(model)
        if observer is None:
            observer = self.observers[model] = BatchObserver(self.metrics, model)
        dispatcher = Dispatcher(merger, call_next, observer)
        queue = BatchQueue(
            settings, dispatcher.run, observer, self.plan.max_queue_size, self.plan.max_request_tokens
        )
        self.queues[key] = queue
        return queue

    async def _wait(
        self, ctx: RequestContext, body: dict[str, Any], merger: Merger, queue: BatchQueue, call_next: Handler
    ) -> ProxyResponse:
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = ctx.attempt_deadline
        if self.plan.item_timeout is not None:
            deadline = min(deadline, now + self.plan.item_timeout)
        size = merger.size(body)
        if size <= queue.settings.max_batch_size and queue.alone_now(size, now):
            return await queue.send_alone(ctx, size, call_next)
        parts = merger.split_oversized(body, queue.settings.max_batch_size)
        tokens = len(ctx.body) // BYTES_PER_TOKEN + 1
        items = [
            Item(
                ctx,
                part,
                merger.size(part) if len(parts) > 1 else size,
                tokens * merger.size(part) // size if len(parts) > 1 else tokens,
                len(parts) == 1,
                now,
                deadline,
                loop.create_future(),
            )
            for part in parts
        ]
        queue.enqueue(items, arrived=size <= queue.settings.max_batch_size)
        answers: list[Any] = []
        reason = "disconnect"
        try:
            async with asyncio.timeout_at(deadline):
                for item in items:
                    answers.append(await item.future)
        except TimeoutError:
            reason = "deadline"
            raise timeout_error(items[0], loop.time()) from None
        except InferlaneError:
            reason = "error"
            raise
        finally:
            for item in items:
                if item.future.cancelled() or not item.future.done():  # awaiting it was cancelled, or never
                    queue.abandon(item, reason)
                else:
                    item.future.exception()  # retrieved: a failed part never logs "never retrieved"
        return _response(merger, answers)


def _parsed(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _response(merger: Merger, answers: list[Any]) -> ProxyResponse:
    """The caller's response: the upstream's own when it went alone or failed, else its encoded part(s)."""
    for answer in answers:
        if isinstance(answer, ProxyResponse):
            return answer
    first: Answer = answers[0]
    value = first.value if len(answers) == 1 else merger.reassemble([a.value for a in answers])
    headers = list(first.headers)
    return ProxyResponse(first.status, headers, body=orjson.dumps(value), endpoint=first.endpoint)


def batching_state(interceptors: Sequence[object]) -> dict[str, Any]:
    """Batching stats per model for the status page (``{}`` when nothing batches)."""
    stage = next((s for s in interceptors if isinstance(s, BatchingStage)), None)
    if stage is None:
        return {}
    models: dict[str, Any] = {}
    for model, observer in stage.observers.items():
        models[model] = {
            "avg_batch_size": observer.avg_size,
            "merge_ratio": observer.merge_ratio,
            "queued": 0,
            "in_flight_batches": 0,
        }
    for queue in stage.queues.values():
        entry = models.get(queue.observer.model)
        if entry is not None:
            entry["queued"] += queue.waiting
            entry["in_flight_batches"] += queue.in_flight
    return {"models": models}


def build_batching(config: ProxyConfig, metrics: ProxyMetrics) -> BatchingStage | None:
    """The stage, or ``None`` when nothing batches; notes about routes that ask for batching are logged."""
    for note in batching_notes(config):
        log.warning("batching: %s", note, extra={"note": note})
    plan = plan_from(config)
    return None if plan is None else BatchingStage(plan, metrics)
