from __future__ import annotations

from inferlane.sim import tokens
from inferlane.sim.engine import Engine, EngineConfig, Seq
from inferlane.sim.kvcache import block_hashes
from inferlane.sim.timing import Timing

TIMING = Timing(prefill_overhead=0.02, prefill_per_token=0.001, decode_base=0.01, decode_per_seq=0.001)


def make(**config: int) -> Engine:
    base = {"max_num_seqs": 8, "num_gpu_blocks": 64, "block_size": 4, "max_model_len": 64, "max_loras": 1}
    base.update(config)
    return Engine(EngineConfig(**base), TIMING)  # type: ignore[arg-type]


def seq(text: str, new: int = 3, lora: str | None = None, block_size: int = 4) -> Seq:
    data = tokens.from_text(text)
    return Seq(prompt=data.count, hashes=block_hashes(data, block_size, lora or ""), max_new=new, lora=lora)


def run(engine: Engine, limit: int = 1000) -> float:
    """Step until idle; returns the simulated end time."""
    for _ in range(limit):
        plan = engine.schedule(engine.now)
        if plan is None:
            return engine.now
        engine.complete(plan, engine.now + plan.duration)
    raise AssertionError("engine did not finish")


def ttft(s: Seq) -> float:
    assert s.first_token is not None
    return s.first_token - s.arrival


def test_single_request_timeline_follows_the_formula() -> None:
    engine = make()
    s = seq("x" * 80, new=3)  # 20 prompt tokens
    engine.add(s, 0.0)
    run(engine)
    assert s.finished and s.ended_with == "stop" and s.generated == 3
    assert ttft(s) == 0.02 + 0.001 * 20
    assert s.last_token is not None and s.last_token - s.first_token == 2 * (0.01 + 0.001)  # type: ignore[operator]
    st = engine.stats
    assert (st.prompt_tokens, st.generation_tokens, st.finished["stop"]) == (20, 3, 1)
    assert engine.pool.usage == 0.0


def test_prefix_hit_cuts_ttft_and_is_counted() -> None:
    engine = make()
    system = "S" * 96  # 24 tokens = 6 blocks
    first, second = seq(system + "question one"), seq(system + "question two")
    engine.add(first, 0.0)
    run(engine)
    engine.add(second, engine.now)
    run(engine)
    assert second.cached_tokens == 24 and first.cached_tokens == 0
    assert ttft(second) < ttft(first)
    assert engine.stats.prefix_hits == 24 and engine.stats.prefix_queries == first.prompt + second.prompt


def test_max_num_seqs_limits_the_batch_and_the_rest_wait() -> None:
    engine = make(max_num_seqs=2)
    seqs = [seq(f"prompt {i}", new=5) for i in range(5)]
    for s in seqs:
        engine.add(s, 0.0)
    plan = engine.schedule(0.0)
    assert plan is not None and len(engine.running) == 2 and len(engine.waiting) == 3
    engine.complete(plan, plan.duration)
    run(engine)
    assert all(s.finished for s in seqs)
    assert seqs[4].first_scheduled is not None and seqs[4].first_scheduled > 0


def test_full_kv_cache_makes_requests_wait() -> None:
    engine = make(num_gpu_blocks=16, max_model_len=64)  # 64 tokens of KV in all
    seqs = [seq("y" * 100 + str(i), new=2) for i in range(3)]  # 26 tokens (7 blocks) each
    for s in seqs:
        engine.add(s, 0.0)
    engine.schedule(0.0)
    assert len(engine.running) == 2 and len(engine.waiting) == 1
    run(engine)
    assert all(s.finished for s in seqs)


def test_decode_out_of_blocks_preempts_the_newest_sequence() -> None:
    engine = make(num_gpu_blocks=6, max_model_len=24, max_num_seqs=4)
    a, b = seq("a" * 30, new=12), seq("b" * 30, new=12)  # 8 tokens = 2 blocks each, grow to 5 blocks
    engine.add(a, 0.0)
    engine.add(b, 0.0)
    run(engine)
    assert a.finished and b.finished and a.generated == b.generated == 12
    assert engine.stats.preemptions >= 1 and b.preemptions >= 1 and a.preemptions == 0


def test_chunked_prefill_respects_the_token_budget() -> None:
    engine = make(max_num_batched_tokens=8, max_model_len=64)
    s = seq("z" * 80, new=1)  # 20 tokens: 3 steps of at most 8
    engine.add(s, 0.0)
    steps = 0
    while (plan := engine.schedule(engine.now)) is not None:
        assert plan.prefill_tokens <= 8
        engine.complete(plan, engine.now + plan.duration)
        steps += 1
    assert steps == 3 and s.finished


def test_max_loras_holds_back_a_second_adapter() -> None:
    engine = make(max_loras=1)
    a, b, c = seq("one", lora="a"), seq("two", lora="b"), seq("three")
    for s in (a, b, c):
        engine.add(s, 0.0)
    engine.schedule(0.0)
    assert engine.running_loras() == {"a"} and engine.waiting_loras() == {"b"}
    assert c in engine.running  # base-model requests are not held back
    run(engine)
    assert b.finished


def test_abort_frees_blocks_and_counts() -> None:
    engine = make()
    s = seq("w" * 40, new=50)
    engine.add(s, 0.0)
    plan = engine.schedule(0.0)
    assert plan is not None
    engine.complete(plan, plan.duration)
    engine.abort(s)
    assert engine.schedule(engine.now) is None
    assert s.ended_with == "abort" and engine.stats.finished["abort"] == 1 and engine.pool.usage == 0.0


def test_instant_mode_accounts_without_steps() -> None:
    engine = make()
    a, b = seq("P" * 64 + "1"), seq("P" * 64 + "2")
    engine.run_instant(a, 5.0)
    engine.run_instant(b, 5.0)
    assert a.finished and b.finished and b.cached_tokens == 16 and engine.stats.prefix_hits == 16


def test_paused_engine_admits_nothing() -> None:
    engine = make()
    engine.paused = True
    engine.add(seq("hi"), 0.0)
    assert not engine.has_work() and engine.schedule(0.0) is None
