"""The engine of one simulated vLLM replica: continuous batching over a paged KV cache (pure).

Each step the scheduler (1) gives every running sequence its next tokens (one for a decoding sequence, a
chunk of its prompt for one still prefilling), taking KV blocks as they fill up and preempting the most
recently admitted sequence when none are left (recompute mode: its blocks are freed and it goes back to
the head of the queue); (2) admits waiting sequences in arrival order while ``maxNumSeqs``, the per-step
token budget ``maxNumBatchedTokens``, the KV blocks and ``maxLoras`` allow, reusing cached prefix blocks.
The shell turns :meth:`Engine.schedule`'s duration into (scaled) sleep and then calls :meth:`complete`.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from inferlane.sim.kvcache import BlockPool
from inferlane.sim.stats import EngineStats
from inferlane.sim.timing import Timing


@dataclass(frozen=True, slots=True)
class EngineConfig:
    max_num_seqs: int = 256
    num_gpu_blocks: int = 28000
    block_size: int = 16
    max_model_len: int = 32768
    max_num_batched_tokens: int = 8192
    enable_prefix_caching: bool = True
    max_loras: int = 4


@dataclass(slots=True, eq=False)
class Seq:
    """One sequence (one choice of one request) inside the engine."""

    prompt: int
    hashes: list[bytes]
    max_new: int
    finish_reason: str = "stop"  # the reason it ends with when it reaches max_new
    lora: str | None = None
    arrival: float = 0.0
    generated: int = 0
    computed: int = 0
    blocks: list[int] = field(default_factory=list)
    registered: int = 0
    cached_tokens: int = 0
    first_scheduled: float | None = None
    first_token: float | None = None
    last_token: float | None = None
    finished: bool = False
    aborted: bool = False
    ended_with: str | None = None
    preemptions: int = 0
    listener: object = None  # the shell's notification target

    @property
    def num_tokens(self) -> int:
        return self.prompt + self.generated


@dataclass(frozen=True, slots=True)
class StepPlan:
    entries: tuple[tuple[Seq, int], ...]
    prefill_tokens: int
    decode_seqs: int
    duration: float


class Engine:
    def __init__(self, config: EngineConfig, timing: Timing, rng: random.Random | None = None) -> None:
        self.config = config
        self.timing = timing
        self.rng = rng
        self.pool = BlockPool(config.num_gpu_blocks, config.enable_prefix_caching)
        self.stats = EngineStats(config.max_model_len)
        self.waiting: deque[Seq] = deque()
        self.running: list[Seq] = []
        self.paused = False
        self.now = 0.0

    # -- state -----------------------------------------------------------------------------------
    def has_work(self) -> bool:
        return bool(self.running) or (bool(self.waiting) and not self.paused)

    def running_loras(self) -> set[str]:
        return {s.lora for s in self.running if s.lora}

    def waiting_loras(self) -> set[str]:
        return {s.lora for s in self.waiting if s.lora}

    def blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.config.block_size)

    # -- requests ----------------------------------------------------------------------------------
    def add(self, seq: Seq, now: float) -> None:
        seq.arrival = now
        self.stats.received += 1
        self.waiting.append(seq)

    def abort(self, seq: Seq) -> None:
        """Mark ``seq`` aborted (client gone); its blocks are freed at the next step."""
        if seq.finished:
            return
        seq.aborted = True
        if seq in self.waiting:
            self.waiting.remove(seq)
            self._finish(seq, self.now, "abort")

    # -- stepping ----------------------------------------------------------------------------------
    def schedule(self, now: float) -> StepPlan | None:
        self.now = max(self.now, now)
        for seq in [s for s in self.running if s.aborted]:
            self._finish(seq, self.now, "abort")
        budget = self.config.max_num_batched_tokens
        entries: list[tuple[Seq, int]] = []
        prefill = decode = 0
        preempted = False
        for seq in list(self.running):
            if seq.computed < 0 or budget <= 0:
                continue  # preempted earlier in this step, or no budget left
            n = min(seq.num_tokens - seq.computed, budget)
            if not self._reserve(seq, seq.computed + n):
                preempted = True
                continue
            entries.append((seq, n))
            budget -= n
            if seq.generated == 0 or n > 1:
                prefill += n
            else:
                decode += 1
        if not preempted and not self.paused:
            budget, added = self._admit(budget, entries)
            prefill += added
        if not entries:
            return None
        duration = self.timing.step_cost(prefill, decode, self.rng)
        return StepPlan(tuple(entries), prefill, decode, duration)

    def _reserve(self, seq: Seq, tokens: int) -> bool:
        """Blocks for ``tokens`` tokens of a running ``seq``, preempting others (or itself) if needed."""
        need = self.blocks_for(tokens) - len(seq.blocks)
        while need > 0 and not self.pool.can_allocate(need):
            victim = self.running[-1]
            self._preempt(victim)
            if victim is seq:
                return False
        if need > 0:
            seq.blocks.extend(self.pool.allocate(need) or ())
        return True

    def _preempt(self, seq: Seq) -> None:
        self.running.remove(seq)
        self.pool.free(seq.blocks)
        seq.blocks = []
        seq.computed = -1  # marks "preempted in this step"; reset when admitted again
        seq.registered = 0
        seq.preemptions += 1
        self.stats.preemptions += 1
        self.waiting.appendleft(seq)

    def _admit(self, budget: int, entries: list[tuple[Seq, int]]) -> tuple[int, int]:
        skipped: deque[Seq] = deque()
        loras = self.running_loras()
        added = 0
        while self.waiting and budget > 0 and len(self.running) < self.config.max_num_seqs:
            seq = self.waiting.popleft()
            if seq.lora and seq.lora not in loras and len(loras) >= self.config.max_loras:
                skipped.append(seq)
                continue
            n = self._start(seq, budget)
            if n == 0:
                self.waiting.appendleft(seq)
                break
            if seq.lora:
                loras.add(seq.lora)
            entries.append((seq, n))
            budget -= n
            added += n
        self.waiting.extendleft(reversed(skipped))
        return budget, added

    def _start(self, seq: Seq, budget: int) -> int:
        """Give ``seq`` its cached prefix and blocks for its first chunk; 0 if the KV cache is full."""
        bs = self.config.block_size
        usable = seq.hashes[: (seq.prompt - 1) // bs]
        hits = self.pool.take_hits(usable)
        computed = len(hits) * bs
        n = min(seq.num_tokens - computed, budget)
        fresh = self.pool.allocate(self.blocks_for(computed + n) - len(hits))
        if fresh is None:
            self.pool.free(hits)
            return 0
        self.stats.prefix_queries += seq.prompt
        self.stats.prefix_hits += computed
        if seq.first_scheduled is None:
            seq.first_scheduled = self.now
            seq.cached_tokens = computed
        seq.blocks = hits + fresh
        seq.computed = computed
        seq.registered = len(hits)
        self.running.append(seq)
        return n

    def complete(self, plan: StepPlan, end: float) -> list[Seq]:
        """Apply a finished step at simulated time ``end``; return the sequences that got a token."""
        self.now = max(self.now, end)
        self.stats.iteration_tokens.observe(plan.prefill_tokens + plan.decode_seqs)
        advanced = []
        for seq, n in plan.entries:
            if seq.finished or seq.aborted or not seq.blocks:
                continue
            seq.computed += n
            self._register(seq)
            if seq.computed == seq.num_tokens:
                self._emit(seq, self.now)
                advanced.append(seq)
        return advanced

    def _register(self, seq: Seq) -> None:
        full = min(min(seq.computed, seq.prompt) // self.config.block_size, len(seq.hashes))
        for b in range(seq.registered, full):
            self.pool.register(seq.blocks[b], seq.hashes[b])
        seq.registered = max(seq.registered, full)

    def _emit(self, seq: Seq, now: float) -> None:
        seq.generated += 1
        self.stats.generation_tokens += 1
        if seq.first_token is None:
            seq.first_token = now
            self.stats.ttft.observe(now - seq.arrival)
            self.stats.prompt_tokens += seq.prompt
        elif seq.last_token is not None:
            self.stats.itl.observe(now - seq.last_token)
        seq.last_token = now
        if seq.generated >= seq.max_new:
            self._finish(seq, now, seq.finish_reason)

    def _finish(self, seq: Seq, now: float, reason: str) -> None:
        if seq in self.running:
            self.running.remove(seq)
        self.pool.free(seq.blocks)
        seq.blocks = []
        seq.finished = True
        seq.ended_with = reason
        st = self.stats
        st.finished[reason] += 1
        st.e2e.observe(now - seq.arrival)
        started = seq.first_scheduled if seq.first_scheduled is not None else now
        st.queue.observe(started - seq.arrival)
        first = seq.first_token if seq.first_token is not None else now
        st.prefill.observe(first - started)
        st.decode.observe(now - first)
        st.request_prompt.observe(seq.prompt)
        st.request_generation.observe(seq.generated)

    def run_instant(self, seq: Seq, now: float) -> None:
        """Zero-latency mode: account for ``seq`` (prefix cache, counters) and finish it at once."""
        self.now = max(self.now, now)
        self.stats.received += 1
        seq.arrival = seq.first_scheduled = self.now
        usable = seq.hashes[: (seq.prompt - 1) // self.config.block_size]
        hits = self.pool.take_hits(usable)
        seq.cached_tokens = seq.computed = len(hits) * self.config.block_size
        self.stats.prefix_queries += seq.prompt
        self.stats.prefix_hits += seq.computed
        fresh = self.pool.allocate(self.blocks_for(seq.prompt) - len(hits))
        seq.blocks = hits + (fresh or [])
        seq.registered = len(hits)
        if fresh is not None:
            seq.computed = seq.prompt
            self._register(seq)
        seq.first_token = seq.last_token = self.now
        self.stats.ttft.observe(0.0)
        self.stats.prompt_tokens += seq.prompt
        seq.generated = seq.max_new
        self.stats.generation_tokens += seq.max_new
        self._finish(seq, self.now, seq.finish_reason)

    # -- control -------------------------------------------------------------------------------
    def reset_prefix_cache(self) -> bool:
        return self.pool.reset_cache()
