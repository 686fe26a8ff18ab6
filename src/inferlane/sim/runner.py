"""The async shell around a replica's :class:`Engine`: one owned task that steps the engine, sleeping each
step's simulated duration times ``timeScale``, and wakes the requests whose sequences got tokens.

Simulated time advances by step durations while the engine is busy (so metrics show the model's times,
not Python's overhead) and catches up with the scaled wall clock when the engine is idle.
"""

from __future__ import annotations

import asyncio
import contextlib

from inferlane.sim.engine import Engine, Seq


class EngineRunner:
    def __init__(self, engine: Engine, time_scale: float) -> None:
        self.engine = engine
        self.time_scale = time_scale
        self.instant = time_scale == 0 or engine.timing.is_zero
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._epoch = 0.0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._epoch = self._loop.time()
        if not self.instant:
            self._task = self._loop.create_task(self._run(), name="sim-engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for seq in [*self.engine.running, *self.engine.waiting]:
            self.engine.abort(seq)
            _notify(seq)

    def sim_now(self) -> float:
        """Simulated now: the engine's clock while busy, the scaled wall clock when idle."""
        if self.engine.has_work() or self._loop is None or self.time_scale <= 0:
            return self.engine.now
        return max(self.engine.now, (self._loop.time() - self._epoch) / self.time_scale)

    def submit(self, seqs: list[Seq], listener: asyncio.Event) -> None:
        now = self.sim_now()
        self.engine.now = max(self.engine.now, now)
        for seq in seqs:
            seq.listener = listener
            if self.instant:
                self.engine.run_instant(seq, now)
            else:
                self.engine.add(seq, now)
        if self.instant:
            listener.set()
        else:
            self._wake.set()

    def abort(self, seqs: list[Seq]) -> None:
        for seq in seqs:
            self.engine.abort(seq)

    def poke(self) -> None:
        """Re-check for work (after wake-up from sleep mode, for example)."""
        self._wake.set()

    async def _run(self) -> None:
        engine = self.engine
        while True:
            plan = engine.schedule(engine.now) if engine.has_work() else None
            if plan is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            start = engine.now
            await asyncio.sleep(plan.duration * self.time_scale)
            for seq in engine.complete(plan, start + plan.duration):
                _notify(seq)


def _notify(seq: Seq) -> None:
    if isinstance(seq.listener, asyncio.Event):
        seq.listener.set()
