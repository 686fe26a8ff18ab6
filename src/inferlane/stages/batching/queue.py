"""One batch queue per compatibility key: the async shell that drives the pure flush rule.

Callers enqueue :class:`Item` s (one per request, or one per part of a request larger than
``maxBatchSize``) and wait on their futures. The queue asks :func:`.policy.flush_decision` what to do on
every event — an arrival, a batch completion, its timer — and launches batches as tasks it owns, at most
``maxConcurrentBatches`` at a time. A batch task lives only while one of its callers still waits: when the
last one leaves (client gone, deadline passed) the task is cancelled and the upstream call with it, so at
shutdown every batch ends with the requests that started it.

Items whose caller left, or whose deadline passed, are dropped before dispatch and never reach the model.

Two shortcuts keep the batcher free when it is not needed and fair when it is busy:

* **idle**: a request that the flush rule would send at once by itself (:meth:`BatchQueue.alone_now`) makes
  its own upstream call in its own task, holding a batch slot — no task, no future, no JSON work;
* **the returning cohort**: when a batch comes back, its items are "due" again for up to one window
  (closed-loop clients send their next request as soon as they have their answer); every arrival pays one
  back, and until they are back an idle queue collects instead of sending the first of them alone
  (rule 6 of :mod:`.policy`). Slots free and cohorts are counted *before* the callers wake up, so a
  caller's next request never finds its own batch still counted in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inferlane.errors import BatchTimeout, RateLimited, UpstreamError
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.stages.batching.observe import BatchObserver
from inferlane.stages.batching.policy import AdaptiveWindow, BatchSettings, Hold, SendNow, flush_decision

log = logging.getLogger("inferlane.batching")


class BatchQueueFull(RateLimited):
    code = "batch_queue_full"
    kind = "batch_queue_full"


@dataclass(slots=True, eq=False)
class Item:
    """One caller's share of a batch (a whole request, or one part of a split one)."""

    ctx: RequestContext
    body: dict[str, Any]
    size: int
    tokens: int
    whole: bool
    enqueued: float
    deadline: float
    future: asyncio.Future[Any]
    batch: Batch | None = None

    @property
    def alive(self) -> bool:
        return not self.future.done()

    def resolve(self, value: Any) -> None:
        if not self.future.done():
            self.future.set_result(value)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


@dataclass(slots=True, eq=False)
class Batch:
    items: list[Item]
    live: int = 0
    task: asyncio.Task[None] | None = field(default=None)


Runner = Callable[[Sequence[Item]], Awaitable[None]]


def timeout_error(item: Item, now: float) -> BatchTimeout:
    waited = now - item.enqueued
    return BatchTimeout(
        f"timeout waiting for batch completion after {waited:.3g}s (route {item.ctx.route}); increase the "
        "request timeout or batching.itemTimeout, or lower batching.maxWaitTimeMs / maxBatchSize"
    )


class BatchQueue:
    def __init__(
        self,
        settings: BatchSettings,
        run: Runner,
        observer: BatchObserver,
        max_queue_size: int,
        max_request_tokens: int,
    ) -> None:
        self.settings = settings
        self.run = run
        self.observer = observer
        self.max_queue_size = max_queue_size
        self.max_request_tokens = max_request_tokens
        self.window = AdaptiveWindow.from_settings(settings) if settings.strategy == "adaptive" else None
        self.items: deque[Item] = deque()
        #: live queued callers, and the batch items they hold
        self.waiting = 0
        self.queued_items = 0
        self.queued_tokens = 0
        self.in_flight = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        #: the returning cohort: items answered by the last batches that have not arrived again yet
        self._due = 0
        self._due_since = 0.0

    @property
    def idle(self) -> bool:
        return not self.items and self.in_flight == 0

    def enqueue(self, items: Sequence[Item], arrived: bool = False) -> None:
        """Queue a request's items (``arrived``: :meth:`alone_now` already counted their arrival)."""
        if self.waiting + len(items) > self.max_queue_size:
            self.observer.dropped("queue_full", len(items))
            raise BatchQueueFull(
                f"batch queue full: {self.waiting} requests waiting (batching.maxQueueSize="
                f"{self.max_queue_size}); retry later",
                headers={"Retry-After": "1"},
            )
        for item in items:
            self.items.append(item)
            self.waiting += 1
            self.queued_items += item.size
            self.queued_tokens += item.tokens
            if not arrived:
                self._arrived(item.size, item.enqueued)
        self.observer.queued(len(items))
        self.pump()

    def alone_now(self, size: int, now: float) -> bool:
        """Whether a request of ``size`` items that arrives now goes out at once, by itself — the idle case.

        The flush rule is asked as if the request were queued; when it would be sent alone at once the
        caller makes the call itself (:meth:`send_alone`): no task, no future, no JSON work.
        """
        if self.items:
            return False
        self._arrived(size, now)
        window = self.window.window(now) if self.window is not None else self.settings.max_wait
        due = self._due if now - self._due_since < window else 0
        decision = flush_decision(self.settings, size, 0.0, self.in_flight, window, size + due)
        return isinstance(decision, SendNow) and decision.items >= size

    async def send_alone(self, ctx: RequestContext, size: int, call_next: Handler) -> ProxyResponse:
        """The upstream call of a request that :meth:`alone_now` let through, holding one batch slot."""
        self.in_flight += 1
        self.observer.batch([size], [0.0])
        answered = 0
        try:
            response = await call_next(ctx)
            answered = size
            return response
        finally:
            self._settle(answered)

    def _arrived(self, size: int, now: float) -> None:
        self._due = max(0, self._due - size)
        if self.window is not None:
            for _ in range(size):
                self.window.observe_arrival(now)

    def abandon(self, item: Item, reason: str) -> None:
        """The caller stopped waiting (client gone, deadline passed) before its item was answered."""
        item.future.cancel()
        batch = item.batch
        if batch is None:
            self._forget(item, reason)
            self.pump()
            return
        batch.live -= 1
        if batch.live <= 0 and batch.task is not None:
            batch.task.cancel()

    def _forget(self, item: Item, reason: str) -> None:
        """Take a queued item out of the counts (it stays in the deque until the head passes it)."""
        if item.batch is None and item.size >= 0:
            self.waiting -= 1
            self.queued_items -= item.size
            self.queued_tokens -= item.tokens
            item.size = -1  # marks "counted out"
            self.observer.dequeued(1)
            self.observer.dropped(reason, 1)

    # --- the flush loop ----------------------------------------------------------------------------

    def pump(self) -> None:
        while True:
            now = self._loop.time()
            self._drop_dead_head(now)
            if not self.items:
                self._disarm()
                return
            window = self.window.window(now) if self.window is not None else self.settings.max_wait
            oldest = self.items[0].enqueued
            due = self._due if now - self._due_since < window else 0
            # while a cohort returns, an item's wait counts from the answer that started the cohort
            age = now - max(oldest, self._due_since) if due else now - oldest
            # a queue that holds a whole token budget (maxRequestTokens) is as full as a whole batch
            queued = self.queued_items
            if self.queued_tokens >= self.max_request_tokens:
                queued = max(queued, self.settings.max_batch_size)
            decision = flush_decision(self.settings, queued, age, self.in_flight, window, queued + due)
            if isinstance(decision, SendNow):
                taken = self._take(decision.items, now)
                if taken:
                    self._launch(taken, now)
                continue
            if isinstance(decision, Hold):
                self._disarm()
            elif due:  # waiting for a returning cohort: decide again when it is no longer expected
                self._arm(self._due_since + min(decision.age, window))
            else:
                self._arm(oldest + decision.age)
            return

    def _dead(self, item: Item, now: float) -> bool:
        if item.size < 0 or not item.alive:
            self._forget(item, "disconnect")
            return True
        if item.deadline <= now:
            self._forget(item, "deadline")
            item.fail(timeout_error(item, now))
            return True
        return False

    def _drop_dead_head(self, now: float) -> None:
        while self.items and self._dead(self.items[0], now):
            self.items.popleft()

    def _take(self, max_items: int, now: float) -> list[Item]:
        taken: list[Item] = []
        items = tokens = 0
        while self.items:
            item = self.items[0]
            if self._dead(item, now):
                self.items.popleft()
                continue
            if taken and (items + item.size > max_items or tokens + item.tokens > self.max_request_tokens):
                break
            self.items.popleft()
            taken.append(item)
            items += item.size
            tokens += item.tokens
        for item in taken:
            self.waiting -= 1
            self.queued_items -= item.size
            self.queued_tokens -= item.tokens
        if taken:
            self.observer.dequeued(len(taken))
        return taken

    def _launch(self, items: list[Item], now: float) -> None:
        batch = Batch(items, live=len(items))
        for item in items:
            item.batch = batch
            item.ctx.queued_s += now - item.enqueued
        self.observer.batch([item.size for item in items], [now - item.enqueued for item in items])
        self.in_flight += 1
        task = self._loop.create_task(self._run(batch), name="batch")
        batch.task = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, batch: Batch) -> None:
        answered = 0
        try:
            await self.run(batch.items)
            answered = sum(item.size for item in batch.items)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave callers waiting forever: each gets a 502
            log.exception("batch failed unexpectedly")
            for item in batch.items:
                item.fail(UpstreamError(f"batching failed: {type(error).__name__}"))
        finally:
            for item in batch.items:
                if item.alive:
                    item.fail(UpstreamError("batching: the batch ended without an answer for this request"))
            self._settle(answered)

    def _settle(self, items: int) -> None:
        """A batch of ``items`` items came back. The slot frees before any of its callers runs again (their
        wake-ups are queued behind this step), so a caller's next request finds the slot free and is
        counted back into its cohort."""
        self.in_flight -= 1
        if items:
            now = self._loop.time()
            if now - self._due_since >= self.settings.max_wait:
                self._due = 0
            self._due += items
            self._due_since = now
        self.pump()

    # --- the timer ---------------------------------------------------------------------------------

    def _arm(self, when: float) -> None:
        if self._timer is not None and self._timer_at == when:
            return
        self._disarm()
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._on_timer)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        self.pump()
