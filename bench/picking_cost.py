"""What one endpoint pick costs: µs per ``Profile.pick`` over 64 endpoints with a warm prefix index.

The fleet: 64 endpoints with fresh scraped signals and varied load; 400 tenants, each with a 2,048-token
system prompt, spread over the fleet and recorded in the prefix index (plus a stream of unique prompts to
fill it). Each timed request is a tenant's prompt plus a question (4,096 tokens, 256 blocks), for the
default "sticky until saturated" profile and the baselines. Also timed: ``PrefixIndex.record`` (the
shell's call after each pick) and hashing a prompt. A bounded loop; the target is < 100 µs per pick.

Then the same through the proxy's shell — everything the proxy does per request about endpoints:
``BackendPool.choose`` (pool filters → cached views → profile), recording the prefix, and the lease that
counts the request in flight and feeds its outcome to the breaker (which drops that endpoint's cached
view, so each pick rebuilds one); the prompt hashing of ``pick_request`` on a 16 KB chat body; and the
prefix index's memory under a stream of unique prompts: its own estimate against tracemalloc's count,
with an 8 MiB bound. Times are the best of 5 rounds (the machine is shared and noisy).

    python -m bench.picking_cost [--picks 20000]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.discovery.load_report import LoadReport
from inferlane.picking.prefix_index import PrefixIndex, block_hashes
from inferlane.picking.profile import Profile, preset
from inferlane.picking.prompt import pick_request
from inferlane.picking.view import EndpointView, PickRequest
from inferlane.upstream.lease import Result
from inferlane.upstream.pool import BackendPool

ENDPOINTS, TENANTS, SYSTEM_TOKENS, PROMPT_TOKENS = 64, 400, 2048, 4096


def fleet(rng: random.Random, now: float) -> list[EndpointView]:
    return [
        EndpointView(
            id=f"pool/10.0.0.{i}:8000",
            models=frozenset({"llama"}),
            in_flight=rng.randrange(0, 30),
            in_flight_tokens=rng.randrange(0, 60_000),
            queue_depth=rng.randrange(0, 5),
            kv_usage=rng.random() * 0.8,
            signals_at=now - rng.random() * 0.5,
            num_gpu_blocks=30_000,
        )
        for i in range(ENDPOINTS)
    ]


def prompts(rng: random.Random) -> list[list[int]]:
    systems = [[rng.randrange(50_000) for _ in range(SYSTEM_TOKENS)] for _ in range(TENANTS)]
    return [
        s + [rng.randrange(50_000) for _ in range(PROMPT_TOKENS - SYSTEM_TOKENS)]
        for s in systems
        for _ in range(2)
    ]


def per_call_us(fn: object, calls: int, rounds: int = 5) -> float:
    """µs per call, the best of ``rounds`` timed loops (as timeit does: the machine is shared and noisy)."""
    assert callable(fn)
    per_round = max(1, calls // rounds)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / per_round * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picks", type=int, default=20_000)
    args = parser.parse_args()
    rng, now = random.Random(7), 1_000.0
    views = fleet(rng, now)
    index = PrefixIndex(block_size=16)
    index.sync(views)
    texts = prompts(rng)
    requests = [
        PickRequest(model="llama", prompt_hashes=block_hashes(t, 16), prompt_tokens=len(t)) for t in texts
    ]
    for r in requests:
        index.record(views[rng.randrange(ENDPOINTS)].id, r.prompt_hashes)
    for _ in range(2_000):  # unique prompts too, so the index is full of noise
        index.record(views[rng.randrange(ENDPOINTS)].id, tuple(rng.getrandbits(63) for _ in range(64)))
    print(f"index: {index.entries} entries, ~{index.approx_bytes / 2**20:.1f} MiB")
    print(f"{'what':<44}{'µs/call':>10}")
    for name in ("sticky-until-saturated", "least-request", "prefix-blend"):
        profile = Profile(preset(name), index)
        cycle = iter(requests * (args.picks // len(requests) + 1))
        us = per_call_us(lambda p=profile, c=cycle: p.pick(views, next(c), now, rng), args.picks)
        print(f"{'pick, 64 endpoints, ' + name:<44}{us:>10.1f}")
    session = PickRequest(model="llama", prompt_hashes=requests[0].prompt_hashes, session="user-42")
    profile = Profile(preset("sticky-until-saturated"), index)
    us = per_call_us(lambda: profile.pick(views, session, now, rng), args.picks)
    print(f"{'pick with a session key':<44}{us:>10.1f}")
    hashes = requests[0].prompt_hashes
    us = per_call_us(lambda: index.record(views[0].id, hashes), args.picks // 4)
    print(f"{'index.record, 256 blocks':<44}{us:>10.1f}")
    us = per_call_us(lambda: block_hashes(texts[0], 16), args.picks // 20)
    print(f"{'block_hashes, 4,096 tokens':<44}{us:>10.1f}")
    shell(args.picks // 4)
    memory_bound()


def shell(picks: int) -> None:
    """The full per-request cost in the proxy: hashing the prompt and BackendPool.choose over 64 endpoints."""
    rng = random.Random(3)
    endpoints = [f"http://10.0.{i // 250}.{i % 250}:8000" for i in range(ENDPOINTS)]
    config = BackendConfig.model_validate({"name": "llm", "engine": "vllm", "endpoints": endpoints})
    pool = BackendPool(config, CircuitBreakerConfig(), HealthCheckConfig(enabled=False), lambda: 1_000.0, rng)
    for state in pool.states.values():
        state.observe(LoadReport(queue_depth=rng.randrange(5), kv_usage=rng.random() * 0.8), 999.9)
        for _ in range(rng.randrange(30)):
            state.begin()
        state.begin(rng.randrange(20_000))
    systems = [" ".join(f"t{t}w{i}" for i in range(2_000)) for t in range(50)]
    bodies = [
        {"messages": [{"role": "system", "content": s}, {"role": "user", "content": f"question {q}"}]}
        for s in systems
        for q in range(4)
    ]
    requests = [pick_request("llama", b) for b in bodies]
    for r in requests:  # warm: every tenant recorded somewhere
        pool.picker.record(pool.choose((), r))
    cycle = iter(requests * (picks // len(requests) + 1))

    def one_request() -> None:
        choice = pool.choose((), next(cycle))
        assert choice.state is not None
        pool.picker.record(choice)
        lease = pool.lease(choice.state, pool.picker.uncached_tokens(choice))
        lease.first_byte()
        lease.finish(Result.SUCCESS)

    us = per_call_us(one_request, picks)
    print(f"{'shell: choose + record + lease, 64 eps':<44}{us:>10.1f}")
    body = bodies[0]
    us = per_call_us(lambda: pick_request("llama", body), picks // 4)
    print(f"{'pick_request, 16 KB chat body':<44}{us:>10.1f}")


def memory_bound() -> None:
    """Unique prompts only: the index must stay within its bound, and its estimate must not undercount."""
    bound = 8 << 20
    tracemalloc.start()
    index = PrefixIndex(block_size=16, max_bytes=bound)
    rng = random.Random(5)
    base = tracemalloc.get_traced_memory()[0]
    for n in range(20_000):
        index.record(f"pool/10.0.0.{n % 16}:8000", tuple(rng.getrandbits(63) for _ in range(64)))
    real = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(
        f"prefix index after 20,000 unique 1,024-token prompts (bound {bound / 2**20:.0f} MiB): "
        f"estimate {index.approx_bytes / 2**20:.2f} MiB, traced {real / 2**20:.2f} MiB, "
        f"{index.entries} entries"
    )


if __name__ == "__main__":
    main()
