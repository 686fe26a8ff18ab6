"""Relay of an upstream body chunk by chunk, as it arrives (SSE events are flushed one by one)."""

from __future__ import annotations

import asyncio
from typing import Protocol

import aiohttp

from inferlane.errors import IdleTimeout, TotalTimeout, UpstreamError
from inferlane.upstream.lease import Lease, Result


class StreamWatch(Protocol):
    """An observer of the relayed bytes (observability's token accounting); called inline, never awaited."""

    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    def ended(self) -> None: ...


class UpstreamStream:
    """An async iterator over the upstream body; raises an Inferlane error if the upstream breaks.

    ``aclose`` before the end (the client hung up) closes the upstream connection instead of returning it
    to the pool, so the model server sees the disconnect and frees the sequence's slot.
    """

    __slots__ = ("_deadline", "_done", "_idle", "_lease", "_response", "_where", "watch")

    def __init__(
        self, response: aiohttp.ClientResponse, lease: Lease, idle: float, deadline: float, where: str
    ) -> None:
        self._response = response
        self._lease = lease
        self._idle = idle
        self._deadline = deadline
        self._where = where
        self._done = False
        #: sees every chunk before it is relayed and may hold back or drop bytes (set by observability)
        self.watch: StreamWatch | None = None

    def __aiter__(self) -> UpstreamStream:
        return self

    async def __anext__(self) -> bytes:
        while True:
            if self._done:
                raise StopAsyncIteration
            remaining = self._deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(min(self._idle, remaining)):
                    chunk = await self._response.content.readany()
            except TimeoutError as exc:
                self._fail()
                if remaining <= self._idle:
                    raise TotalTimeout(
                        f"request timeout: stream from {self._where} passed the deadline"
                    ) from exc
                raise IdleTimeout(
                    f"upstream stream idle for more than {self._idle:g}s: {self._where}"
                ) from exc
            except (aiohttp.ClientError, OSError) as exc:
                self._fail()
                raise UpstreamError(f"upstream disconnected mid-stream: {self._where}") from exc
            if self._lease.tokens:
                self._lease.first_byte()  # the first chunk of a stream: prefill is over
            watch = self.watch
            if chunk:
                if watch is None:
                    return chunk
                out = watch.feed(chunk)  # may hold back an incomplete event: then read on
                if out:
                    return out
                continue
            self._done = True
            self._response.release()
            self._lease.finish_status(self._response.status)
            rest = watch.finish() if watch is not None else b""
            if rest:
                return rest
            raise StopAsyncIteration

    def _fail(self) -> None:
        self._done = True
        self._response.close()
        self._lease.finish(Result.LOCAL_FAILURE)
        if self.watch is not None:
            self.watch.ended()

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            self._response.close()
            self._lease.finish(Result.ABANDONED)
            if self.watch is not None:
                self.watch.ended()
