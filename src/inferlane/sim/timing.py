"""The timing model: how long an engine step or a classic batch takes, in simulated seconds (pure).

    step = [prefillOverhead + prefillPerToken * P]   if the step prefills P > 0 uncached prompt tokens
         + [decodeBase + decodePerSeq * D]           if the step decodes D > 0 running sequences
    batch (embeddings, TF Serving, KServe) = batchBase + batchPerItem * N

Each result is multiplied by ``1 + jitter * u`` with ``u`` uniform in [-1, 1] from the replica's seeded
random source. Wall-clock time is simulated time times ``timeScale``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    prefill_overhead: float = 0.0
    prefill_per_token: float = 0.0
    decode_base: float = 0.0
    decode_per_seq: float = 0.0
    batch_base: float = 0.0
    batch_per_item: float = 0.0
    jitter: float = 0.0

    @property
    def is_zero(self) -> bool:
        return not (
            self.prefill_overhead
            or self.prefill_per_token
            or self.decode_base
            or self.decode_per_seq
            or self.batch_base
            or self.batch_per_item
        )

    def step_cost(self, prefill_tokens: int, decode_seqs: int, rng: random.Random | None = None) -> float:
        cost = 0.0
        if prefill_tokens > 0:
            cost += self.prefill_overhead + self.prefill_per_token * prefill_tokens
        if decode_seqs > 0:
            cost += self.decode_base + self.decode_per_seq * decode_seqs
        return self._jittered(cost, rng)

    def batch_cost(self, items: int, rng: random.Random | None = None) -> float:
        if items <= 0:
            return 0.0
        return self._jittered(self.batch_base + self.batch_per_item * items, rng)

    def _jittered(self, cost: float, rng: random.Random | None) -> float:
        if self.jitter <= 0 or rng is None or cost <= 0:
            return cost
        return max(0.0, cost * (1.0 + self.jitter * rng.uniform(-1.0, 1.0)))
