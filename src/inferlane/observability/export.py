"""OTLP/HTTP export of encoded spans: batched, bounded, from one background task owned by the App.

Spans wait in a bounded list (full → dropped and counted); the task posts what is waiting every
``tracing.exportInterval``, or a batch as soon as 512 are waiting. Every POST has the
``tracing.exportTimeout`` limit; a failed batch is dropped (and counted) so a missing collector never grows
memory or slows requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

from inferlane.config.observability import TracingConfig
from inferlane.observability.otlp import OtlpEncoder

log = logging.getLogger("inferlane.tracing")

#: (result, span count): ``exported``, ``failed`` (export request failed) or ``dropped`` (queue full)
ResultHook = Callable[[str, int], None]


class OtlpExporter:
    def __init__(
        self,
        config: TracingConfig,
        encoder: OtlpEncoder,
        on_result: ResultHook,
        batch: int = 512,
        max_pending: int = 8192,
        interval: float = 1.0,
    ) -> None:
        self.endpoint = config.endpoint
        self.headers = {**config.headers, "Content-Type": "application/x-protobuf"}
        self.timeout = config.export_timeout
        self.encoder = encoder
        self.on_result = on_result
        self.batch = batch
        self.max_pending = max_pending
        self.interval = interval
        self.pending: list[bytes] = []
        self._wake: asyncio.Event | None = None
        self._closing = False
        self._failing = False

    def add(self, spans: list[bytes]) -> None:
        room = self.max_pending - len(self.pending)
        if room < len(spans):
            self.on_result("dropped", len(spans) - max(room, 0))
            spans = spans[: max(room, 0)]
        self.pending.extend(spans)
        if len(self.pending) >= self.batch and self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._closing:
                full = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        full = await self._wake.wait()
                self._wake.clear()
                await self.flush(session, whole_batches_only=full and not self._closing)
            await self.flush(session)

    def close(self) -> None:
        """Ask :meth:`run` to send what is pending and end."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()

    async def flush(self, session: aiohttp.ClientSession, whole_batches_only: bool = False) -> None:
        """Send the spans pending now, in batches (after a batch filled up: only whole batches, the rest
        waits for the interval). Spans added meanwhile wait for the next full batch or interval: draining
        them too would post a tiny batch every few requests under steady traffic."""
        left = len(self.pending)
        if whole_batches_only:
            left -= left % self.batch
        while left > 0 and self.pending:
            batch = self.pending[: min(self.batch, left)]
            del self.pending[: len(batch)]
            left -= len(batch)
            status = 0
            try:
                async with session.post(
                    self.endpoint, data=self.encoder.request(batch), headers=self.headers
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                self._failed(f"{type(error).__name__}: {error}", len(batch))
                return
            if 200 <= status < 300:
                self.on_result("exported", len(batch))
                if self._failing:
                    self._failing = False
                    log.info("trace export recovered", extra={"endpoint": self.endpoint})
            else:
                self._failed(f"HTTP {status}", len(batch))
                return

    def _failed(self, reason: str, count: int) -> None:
        self.on_result("failed", count)
        if not self._failing:  # log the change, not every failed batch
            self._failing = True
            log.warning("trace export failed", extra={"endpoint": self.endpoint, "reason": reason})
