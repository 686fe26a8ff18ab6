"""Holds the live pipeline; a reload swaps it atomically and the old one retires once idle."""

from __future__ import annotations

import asyncio
import logging

from inferlane.pipeline.chain import Pipeline

log = logging.getLogger("inferlane.reload")


class PipelineHolder:
    def __init__(self, pipeline: Pipeline) -> None:
        self.current = pipeline
        self._idle: dict[int, asyncio.Event] = {}

    def acquire(self) -> Pipeline:
        pipeline = self.current
        pipeline.in_flight += 1
        return pipeline

    def release(self, pipeline: Pipeline) -> None:
        pipeline.in_flight -= 1
        if pipeline.in_flight == 0 and pipeline is not self.current:
            event = self._idle.get(pipeline.generation)
            if event is not None:
                event.set()

    def swap(self, new: Pipeline) -> Pipeline:
        old, self.current = self.current, new
        return old

    async def retire(self, old: Pipeline, timeout: float) -> None:
        """Wait (bounded) until no request uses ``old``, then close the backends the new one dropped."""
        if old.in_flight:
            event = self._idle.setdefault(old.generation, asyncio.Event())
            try:
                async with asyncio.timeout(timeout):
                    await event.wait()
            except TimeoutError:
                log.warning("old pipeline still busy at retire timeout", extra={"in_flight": old.in_flight})
            finally:
                self._idle.pop(old.generation, None)
        kept = set(map(id, self.current.backends.values()))
        for backend in old.backends.values():
            if id(backend) not in kept:
                await backend.aclose()
