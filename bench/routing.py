"""Routing benchmark: does load-aware picking beat round-robin on LLM traffic? All through Inferlane.

A simulated vLLM fleet (4 replicas, ``h100-7b`` timing, a KV cache of 3,000 blocks = 48k tokens each, in its
own process) sits behind an Inferlane proxy (its own process, restarted per policy so every policy starts
with an empty prefix index; the replicas' prefix caches are reset between runs). An open-loop client sends
Poisson arrivals of streaming ``/v1/completions`` requests at fixed rates and measures TTFT (first token
chunk), completion throughput and output tokens/s; the replicas' own metrics give the prefix-cache hit
rate and the waiting-queue depth (sampled every 250 ms). Policies: ``round-robin``, ``least-request`` and
Inferlane's default ``sticky-until-saturated``. Admission control is off so only picking differs.

Workloads:
  shared-prefix  24 tenants, each a 4,000-token system prompt, plus a ~100-token question
  multi-turn     40 live chats over a 1,000-token system prompt, growing ~100 tokens a turn (up to 12)
  lora           8 LoRA adapters (Zipf popularity, max 2 loaded per replica), 1,000-token prompt each
  hot-tenant     shared-prefix where one tenant sends half of the traffic

    python -m bench.routing                       # all workloads, shared-prefix at 8/16/24 req/s (~9 minutes)
    python -m bench.routing --quick               # shared-prefix only, 8 s windows
    python -m bench.routing --workloads lora --rates 8 16 --seconds 10 --warmup 5

Each run measures a 10 s window of arrivals after an unmeasured warm-up of 80 requests (at least 5 s), so
the numbers are steady state rather than the first request of every tenant.

Prints a markdown table, writes bench/results/routing.json (and routing.png when matplotlib is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.procs import free_port, running
from bench.stats import percentiles

RESULTS = Path(__file__).resolve().parent / "results"
POLICIES = ("round-robin", "least-request", "sticky-until-saturated")
REPLICAS, MODEL = 4, "llama"
LORAS = [f"adapter-{i}" for i in range(8)]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"]


def text(rng: random.Random, tokens: int) -> str:
    """About ``tokens`` simulator tokens (4 bytes each) of words."""
    out: list[str] = []
    size = 0
    while size < tokens * 4:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


Request = tuple[str, str]  # (model, prompt)


def shared_prefix(rng: random.Random, hot: float = 0.0) -> Callable[[], Request]:
    systems = [f"[tenant {t}] " + text(random.Random(t), 4000) for t in range(24)]

    def next_request() -> Request:
        tenant = 0 if rng.random() < hot else rng.randrange(len(systems))
        return MODEL, systems[tenant] + "\nQ: " + text(rng, 100) + "\nA:"

    return next_request


def multi_turn(rng: random.Random) -> Callable[[], Request]:
    system = "[assistant] " + text(random.Random(99), 1000)
    chats: list[list[str]] = []

    def next_request() -> Request:
        if len(chats) < 40:
            chats.append([system])
        chat = rng.choice(chats)
        chat.append("\nUser: " + text(rng, 80) + "\nAssistant: " + text(rng, 20))
        prompt = "".join(chat)
        if len(chat) > 12:
            chats.remove(chat)
        return MODEL, prompt

    return next_request


def lora_mix(rng: random.Random) -> Callable[[], Request]:
    systems = {name: f"[{name}] " + text(random.Random(name), 1000) for name in LORAS}
    weights = [1 / (i + 1) for i in range(len(LORAS))]

    def next_request() -> Request:
        adapter = rng.choices(LORAS, weights)[0]
        return adapter, systems[adapter] + "\nQ: " + text(rng, 60) + "\nA:"

    return next_request


WORKLOADS: dict[str, Callable[[random.Random], Callable[[], Request]]] = {
    "shared-prefix": shared_prefix,
    "multi-turn": multi_turn,
    "lora": lora_mix,
    "hot-tenant": lambda rng: shared_prefix(rng, hot=0.5),
}


def fleet_file(directory: Path, port: int) -> Path:
    spec = {
        "timeScale": 1.0,
        "seed": 1,
        "models": [
            {
                "name": MODEL,
                "replicas": REPLICAS,
                "port": port,
                "preset": "h100-7b",
                "engine": {"numGpuBlocks": 3000, "maxModelLen": 16384},
                "output": {"minTokens": 16, "maxTokens": 16},
                "loras": [{"name": name, "path": f"/loras/{name}"} for name in LORAS],
                "maxLoras": 2,
            }
        ],
    }
    path = directory / "fleet.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def proxy_file(directory: Path, port: int, admin: int, sim_port: int, policy: str) -> Path:
    config = {
        "server": {"host": "127.0.0.1", "port": port, "adminHost": "127.0.0.1", "adminPort": admin},
        "logging": {"accessLog": False, "level": "warning"},
        "healthCheck": {"enabled": False},
        "admission": {"enabled": False},
        "backends": [
            {
                "name": "llm",
                "engine": "vllm",
                "endpoints": [f"http://127.0.0.1:{sim_port + i}" for i in range(REPLICAS)],
                # the h100-7b preset prefills ~9,700 tokens/s per replica
                "picking": {"profile": policy, "prefillTokensPerS": 10000, "ttftBudget": "1s"},
            }
        ],
    }
    path = directory / f"proxy-{policy}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


_SAMPLE = re.compile(r"^(vllm:\w+?)(?:_total)?\{[^}]*\} (\S+)$", re.M)


async def sim_totals(http: aiohttp.ClientSession, sim_port: int) -> dict[str, float]:
    totals: dict[str, float] = {}
    for i in range(REPLICAS):
        async with http.get(f"http://127.0.0.1:{sim_port + i}/metrics") as response:
            page = await response.text()
        for name, value in _SAMPLE.findall(page):
            if name in ("vllm:prefix_cache_hits", "vllm:prefix_cache_queries", "vllm:num_requests_waiting",
                        "vllm:num_requests_running"):  # fmt: skip
                totals[name] = totals.get(name, 0.0) + float(value)
    return totals


async def reset_fleet(http: aiohttp.ClientSession, sim_port: int) -> None:
    """Wait until the replicas are idle, then empty their prefix caches."""
    async with asyncio.timeout(120):
        while (await sim_totals(http, sim_port)).get("vllm:num_requests_running", 0) > 0:
            await asyncio.sleep(0.2)
        for i in range(REPLICAS):
            async with http.post(f"http://127.0.0.1:{sim_port + i}/reset_prefix_cache") as response:
                await response.read()


async def one_request(http: aiohttp.ClientSession, url: str, model: str, prompt: str) -> tuple[float, int]:
    """TTFT (first token chunk) and output tokens of one streaming completion; TTFT -1 on failure."""
    body = {"model": model, "prompt": prompt, "max_tokens": 16, "stream": True}
    started = time.perf_counter()
    ttft, tokens = -1.0, 0
    async with http.post(url, json=body) as response:
        if response.status != 200:
            await response.read()
            return -1.0, 0
        async for line in response.content:
            if line.startswith(b"data: {"):
                if ttft < 0:
                    ttft = time.perf_counter() - started
                tokens += 1
    return ttft, tokens


async def run_one(
    proxy_port: int, sim_port: int, workload: str, rate: float, seconds: float, warmup: float, seed: int
) -> dict[str, Any]:
    """Open-loop Poisson arrivals for ``warmup + seconds``; only requests arriving after the warm-up count."""
    rng = random.Random(seed)
    make = WORKLOADS[workload](rng)
    url = f"http://127.0.0.1:{proxy_port}/v1/completions"
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await reset_fleet(http, sim_port)
        arrivals, at = [], rng.expovariate(rate)
        while at < warmup + seconds:
            arrivals.append((at, *make()))
            at += rng.expovariate(rate)
        queue_samples: list[float] = []
        before: dict[str, float] = {}
        start = time.perf_counter()

        async def fire(at: float, model: str, prompt: str) -> tuple[float, float, int, float]:
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            ttft, tokens = await one_request(http, url, model, prompt)
            return at, ttft, tokens, time.perf_counter() - start

        async def observe() -> None:
            await asyncio.sleep(warmup)
            before.update(await sim_totals(http, sim_port))
            while True:
                totals = await sim_totals(http, sim_port)
                queue_samples.append(totals.get("vllm:num_requests_waiting", 0.0))
                await asyncio.sleep(0.25)

        observer = asyncio.create_task(observe())
        try:
            results = await asyncio.gather(*(fire(*a) for a in arrivals))
        finally:
            observer.cancel()
        after = await sim_totals(http, sim_port)
    measured = [r for r in results if r[0] >= warmup]
    ok = [r for r in measured if r[1] >= 0]
    span = max((r[3] for r in ok), default=warmup) - warmup
    hits = after.get("vllm:prefix_cache_hits", 0) - before.get("vllm:prefix_cache_hits", 0)
    queries = after.get("vllm:prefix_cache_queries", 0) - before.get("vllm:prefix_cache_queries", 0)
    ttft = percentiles([r[1] for r in ok])
    return {
        "requests": len(measured),
        "errors": len(measured) - len(ok),
        "ttft_p50_ms": ttft["p50"] * 1000,
        "ttft_p90_ms": ttft["p90"] * 1000,
        "ttft_p99_ms": ttft["p99"] * 1000,
        "throughput_rps": len(ok) / span if span > 0 else 0.0,
        "output_tok_s": sum(r[2] for r in ok) / span if span > 0 else 0.0,
        "prefix_hit_rate": hits / queries if queries else 0.0,
        "queue_mean": sum(queue_samples) / len(queue_samples) if queue_samples else 0.0,
        "queue_max": max(queue_samples, default=0.0),
    }


def run(plan: list[tuple[str, list[float]]], seconds: float, warmup: float | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sim_port = free_port()
        sim = [sys.executable, "-m", "inferlane", "sim", "--config", str(fleet_file(directory, sim_port))]
        with running(sim, None, sim_port + REPLICAS - 1):
            for policy in POLICIES:
                port, admin = free_port(), free_port()
                config = proxy_file(directory, port, admin, sim_port, policy)
                with running(
                    [sys.executable, "-m", "inferlane", "proxy", "--config", str(config)], None, port
                ):
                    for workload, rates in plan:
                        for rate in rates:
                            warm = warmup if warmup is not None else max(5.0, 80 / rate)
                            work = run_one(port, sim_port, workload, rate, seconds, warm, seed=int(rate))
                            row = {"workload": workload, "policy": policy, "rate": rate, **asyncio.run(work)}
                            rows.append(row)
                            print(progress(row), flush=True)
    return rows


def progress(row: dict[str, Any]) -> str:
    return (
        f"{row['workload']:14} {row['policy']:24} {row['rate']:5.1f}/s  TTFT p90 {row['ttft_p90_ms']:7.0f} ms"
        f"  {row['throughput_rps']:5.2f} req/s  hit {row['prefix_hit_rate']:.2f}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| workload | rate (req/s) | policy | TTFT p50 (ms) | TTFT p90 (ms) | TTFT p99 (ms) | req/s "
        "| output tok/s | prefix hit rate | queue mean / max | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['workload']} | {r['rate']:g} | {r['policy']} | {r['ttft_p50_ms']:.0f} "
            f"| {r['ttft_p90_ms']:.0f} | {r['ttft_p99_ms']:.0f} | {r['throughput_rps']:.2f} "
            f"| {r['output_tok_s']:.0f} "
            f"| {r['prefix_hit_rate']:.2f} | {r['queue_mean']:.1f} / {r['queue_max']:.0f} | {r['errors']} |"
        )
    return "\n".join(out)


def versus_round_robin(rows: list[dict[str, Any]]) -> str:
    """The default profile against round-robin, per workload and rate."""
    base = {(r["workload"], r["rate"]): r for r in rows if r["policy"] == "round-robin"}
    out = ["| workload | rate | TTFT p90 vs RR | throughput vs RR |", "|---|---|---|---|"]
    for r in rows:
        rr = base.get((r["workload"], r["rate"]))
        if r["policy"] != "sticky-until-saturated" or rr is None:
            continue
        ttft = r["ttft_p90_ms"] / rr["ttft_p90_ms"] if rr["ttft_p90_ms"] else float("nan")
        tput = r["throughput_rps"] / rr["throughput_rps"] if rr["throughput_rps"] else float("nan")
        out.append(f"| {r['workload']} | {r['rate']:g} | {ttft:.2f}× | {tput:.2f}× |")
    return "\n".join(out)


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workloads = sorted({r["workload"] for r in rows})
    fig, axes = plt.subplots(1, len(workloads), figsize=(5 * len(workloads), 4), squeeze=False)
    for ax, workload in zip(axes[0], workloads, strict=True):
        for policy in POLICIES:
            points = sorted(
                (r["rate"], r["ttft_p90_ms"])
                for r in rows
                if r["workload"] == workload and r["policy"] == policy
            )
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=policy)
        ax.set(title=workload, xlabel="offered load (req/s)", ylabel="TTFT p90 (ms)", yscale="log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shared-prefix only, 8 s per run")
    parser.add_argument("--workloads", nargs="*", default=None, choices=sorted(WORKLOADS))
    parser.add_argument(
        "--rates",
        nargs="*",
        type=float,
        default=None,
        help="rates (req/s); default 8 16 24 for shared-prefix, 16 else",
    )
    parser.add_argument("--seconds", type=float, default=None, help="measured arrival window per run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="unmeasured arrivals first (s; default: 80 requests, ≥ 5 s)",
    )
    args = parser.parse_args(argv)
    rates = args.rates or [8.0, 16.0, 24.0]
    workloads = args.workloads or (["shared-prefix"] if args.quick else list(WORKLOADS))
    plan = [(w, rates if args.rates or w == "shared-prefix" else [16.0]) for w in workloads]
    rows = run(plan, args.seconds or (8.0 if args.quick else 10.0), args.warmup)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "routing.json").write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows))
    print()
    print(versus_round_robin(rows))
    if plot(rows, RESULTS / "routing.png"):
        print(f"\nplot: {RESULTS / 'routing.png'}")
    else:
        print("\n(no plot: matplotlib is not installed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
