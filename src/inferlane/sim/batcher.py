"""The 'device' of a classic model (embeddings, rerank, TF Serving, KServe): one batch at a time, FIFO.

A call with N items holds the device for ``batchBase + batchPerItem × N`` simulated seconds, so N separate
calls cost N × base while one merged call costs base once: merging requests measurably pays off.
"""

from __future__ import annotations

import asyncio
import random

from inferlane.sim.stats import BatchStats
from inferlane.sim.timing import Timing


class BatchDevice:
    def __init__(self, timing: Timing, time_scale: float, rng: random.Random) -> None:
        self.timing = timing
        self.time_scale = time_scale
        self.rng = rng
        self.stats = BatchStats()
        self._lock = asyncio.Lock()
        self.instant = time_scale == 0 or timing.is_zero

    async def run(self, items: int, tokens: int) -> tuple[float, float]:
        """Run one batch of ``items`` inputs; returns (queue, inference) time in simulated seconds."""
        st = self.stats
        st.requests += 1
        st.items += items
        st.batches += 1
        st.batch_size.observe(items)
        st.input_tokens.observe(tokens)
        cost = self.timing.batch_cost(items, self.rng)
        if self.instant:
            self._record(0.0, 0.0)
            return 0.0, 0.0
        loop = asyncio.get_running_loop()
        queued_at = loop.time()
        st.queued += 1
        acquired = False
        try:
            async with self._lock:
                st.queued -= 1
                acquired = True
                st.running += 1
                queue = (loop.time() - queued_at) / self.time_scale
                try:
                    await asyncio.sleep(cost * self.time_scale)
                finally:
                    st.running -= 1
        except BaseException:
            if not acquired:
                st.queued -= 1
            st.failures += 1
            raise
        self._record(queue, cost)
        return queue, cost

    def _record(self, queue: float, cost: float) -> None:
        st = self.stats
        st.success += 1
        st.queue_time.observe(queue)
        st.inference_time.observe(cost)
        st.duration.observe(queue + cost)
