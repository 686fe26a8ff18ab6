"""Dynamic batching on real model servers: direct vs through Inferlane with batching on, in the same run.

Workloads (each a separate server process, pinned to CPU 0):
  embed     all-MiniLM-L6-v2 on CPU torch (bench/embed_server.py), one request at a time, /v1/embeddings
  tfserving the simulator's TF Serving model (preset ``classic``: 10 ms + 0.3 ms per item per call), :predict
  kserve    the simulator's KServe v2 model (same device), /v2/models/{name}/infer

Clients send single-item requests (one text, one instance, one row) in a closed loop at each concurrency;
the proxy is pinned to CPU 1 with this load generator. Reported per path and concurrency: throughput,
p50/p99 latency, the mean batch the model saw, and the proxy's CPU per request.

    python -m bench.batching [--duration 8] [--concurrency 1 16 64] [--only embed tfserving kserve]

Prints markdown tables and writes bench/results/batching.json and batching.svg (bench/batching_plot.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench import batching_plot
from bench.paths import ROOT, WORK, environment
from bench.procs import free_port, running, tree_cpu_seconds
from bench.stats import percentiles

SERVER_CPU, PROXY_CPU = 0, 1
EMBED_PYTHON = WORK / "venv-embed" / "bin" / "python"
RESULTS = Path(__file__).resolve().parent / "results" / "batching.json"
#: the vocabulary of the single-text requests (8 to 20 words each)
TEXT = (
    "the quick brown fox jumps over a lazy dog while model servers answer many small requests from "
    "clients across the cluster and every batch carries more work per call than single inputs"
)
WORDS = TEXT.split()


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    body: Callable[[random.Random], dict[str, Any]]
    model: str


def _sentence(rng: random.Random) -> dict[str, Any]:
    return {"model": "minilm", "input": " ".join(rng.choices(WORDS, k=rng.randint(8, 20)))}


def _instance(rng: random.Random) -> dict[str, Any]:
    return {"instances": [[round(rng.random(), 4) for _ in range(8)]]}


def _row(rng: random.Random) -> dict[str, Any]:
    data = [round(rng.random(), 4) for _ in range(8)]
    tensor = {"name": "x", "shape": [1, 8], "datatype": "FP32", "data": data}
    return {"id": str(rng.randrange(1 << 30)), "inputs": [tensor]}


WORKLOADS = {
    "embed": Workload("embed", "/v1/embeddings", _sentence, "minilm"),
    "tfserving": Workload("tfserving", "/v1/models/clf:predict", _instance, "clf"),
    "kserve": Workload("kserve", "/v2/models/tab/infer", _row, "tab"),
}


async def closed_loop(url: str, workload: Workload, concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` workers, each sending one request after another for ``seconds``."""
    rng = random.Random(concurrency)
    bodies = [json.dumps(workload.body(rng)).encode() for _ in range(512)]
    latencies: list[float] = []
    errors = 0
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        stop = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            nonlocal errors
            i = index
            while time.perf_counter() < stop:
                started = time.perf_counter()
                async with session.post(url, data=bodies[i % len(bodies)], headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors += 1
                i += concurrency

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - began
    lat = percentiles(latencies)
    return {"rps": len(latencies) / elapsed, "requests": len(latencies), "errors": errors,
            "p50_ms": lat["p50"] * 1000, "p99_ms": lat["p99"] * 1000}  # fmt: skip


async def scrape(admin: int, model: str) -> tuple[float, float]:
    """(sum, count) of the proxy's ``ai_inference_batch_size`` for the model."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{admin}/metrics") as resp:
        text = await resp.text()
    values = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for kind in values:
            if line.startswith(f'ai_inference_batch_size_{kind}{{model="{model}"}}'):
                values[kind] = float(line.rsplit(" ", 1)[1])
    return values["sum"], values["count"]


def proxy_config(port: int, admin: int, upstream: int, args: argparse.Namespace) -> dict[str, Any]:
    paths = [w.path for w in WORKLOADS.values()]
    return {
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "adminHost": "127.0.0.1",
            "adminPort": admin,
            "drainDelay": "0s",
        },
        "backends": [{"name": "model", "endpoints": [f"http://127.0.0.1:{upstream}"]}],
        "routing": {"endpoints": [{"path": p, "backend": "model", "batchEnabled": True} for p in paths]},
        "batching": {
            "enabled": True,
            "strategy": "dynamic",
            "maxBatchSize": args.max_batch_size,
            "maxWaitTimeMs": args.max_wait_ms,
            "maxConcurrentBatches": args.max_concurrent_batches,
        },
        "healthCheck": {"enabled": False},
        "retry": {"attempts": 0},
        "logging": {"accessLog": False, "level": "warning"},
    }


def server_argv(workload: Workload, port: int, scratch: Path, threads: int = 1) -> list[str]:
    if workload.name == "embed":
        script = str(ROOT / "bench" / "embed_server.py")
        argv = [str(EMBED_PYTHON), script, "--port", str(port), "--threads", str(threads)]
        every_core = f"0-{(os.cpu_count() or 1) - 1}"  # this process is pinned; the server is not
        return argv if threads == 1 else ["taskset", "-c", every_core, *argv]
    kind = "tfserving" if workload.name == "tfserving" else "kserve"
    fleet = {"timeScale": 1.0, "models": [{"name": workload.model, "kind": kind, "port": port,
                                            "preset": "classic", "maxClientBatchSize": 4096}]}  # fmt: skip
    path = scratch / f"fleet-{workload.name}.yaml"
    path.write_text(yaml.safe_dump(fleet))
    return [sys.executable, "-m", "inferlane", "sim", "--config", str(path)]


async def vector_check(direct: str, proxied: str, workload: Workload) -> float:
    """Largest absolute difference between what 32 concurrent callers got through the proxy and alone."""
    rng = random.Random(7)
    bodies = [workload.body(rng) for _ in range(32)]
    async with aiohttp.ClientSession() as session:

        async def get(url: str, body: dict[str, Any]) -> list[float]:
            async with session.post(url, json=body) as resp:
                answer = await resp.json()
            if workload.name == "embed":
                return [float(v) for v in answer["data"][0]["embedding"]]
            if workload.name == "tfserving":
                return [float(v) for v in answer["predictions"][0]]
            return [float(v) for v in answer["outputs"][0]["data"]]

        alone = [await get(direct, body) for body in bodies]
        merged = await asyncio.gather(*(get(proxied, body) for body in bodies))
    return max(abs(a - b) for x, y in zip(alone, merged, strict=True) for a, b in zip(x, y, strict=True))


def run_workload(workload: Workload, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    upstream, port, admin, plain_port = free_port(), free_port(), free_port(), free_port()
    env = environment_for_proxy()
    argvs = []
    for listen, admin_port, batching in ((port, admin, True), (plain_port, free_port(), False)):
        config = proxy_config(listen, admin_port, upstream, args)
        config["batching"]["enabled"] = batching
        path = scratch / f"proxy-{workload.name}-{listen}.yaml"
        path.write_text(yaml.safe_dump(config))
        argvs.append([sys.executable, "-m", "inferlane", "proxy", "--config", str(path)])
    rows: dict[str, Any] = {"levels": {}}
    direct_url = f"http://127.0.0.1:{upstream}{workload.path}"
    proxy_url = f"http://127.0.0.1:{port}{workload.path}"
    plain_url = f"http://127.0.0.1:{plain_port}{workload.path}"
    with (
        running(
            server_argv(workload, upstream, scratch, args.server_threads),
            SERVER_CPU if args.server_threads == 1 else None,
            upstream,
            env,
        ),
        running(argvs[0], PROXY_CPU, port, env) as proxy_pid,
        running(argvs[1], PROXY_CPU, plain_port, env),
    ):
        for url in (direct_url, proxy_url, plain_url):  # warm-up every path
            asyncio.run(closed_loop(url, workload, 4, 1.0))
        rows["max_abs_diff"] = asyncio.run(vector_check(direct_url, proxy_url, workload))
        rows["idle"] = asyncio.run(paired(direct_url, proxy_url, plain_url, workload, args.pairs))
        idle = rows["idle"]
        print(f"  {workload.name} idle: batching adds {idle['added_p50_ms']:+.2f} ms p50 over direct, "
              f"{idle['batching_vs_plain_p50_ms']:+.2f} ms over the plain proxy", flush=True)  # fmt: skip
        for concurrency in args.concurrency:
            level: dict[str, list[dict[str, Any]]] = {"direct": [], "inferlane": []}
            for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits both paths alike
                level["direct"].append(
                    asyncio.run(closed_loop(direct_url, workload, concurrency, args.duration))
                )
                level["inferlane"].append(
                    measure_proxied(proxy_url, admin, proxy_pid, workload, concurrency, args)
                )
            rows["levels"][str(concurrency)] = level
            d, b = median_of(level["direct"]), median_of(level["inferlane"])
            print(f"  {workload.name} c={concurrency}: direct {d['rps']:.0f} req/s, inferlane {b['rps']:.0f} "
                  f"req/s (batch {b['mean_batch']:.1f})", flush=True)  # fmt: skip
    return rows


async def paired(
    direct: str, batching: str, plain: str, workload: Workload, rotations: int
) -> dict[str, float]:
    """One client, one request at a time, rotating direct → batching proxy → plain proxy, ``rotations`` times.

    Each rotation's differences are taken back to back, so a slow moment of a shared machine hits all three
    paths alike; the medians of the differences are the added latency.
    """
    rng = random.Random(1)
    times: dict[str, list[float]] = {"direct": [], "batching": [], "plain": []}
    urls = {"direct": direct, "batching": batching, "plain": plain}
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for _ in range(rotations):
            body = json.dumps(workload.body(rng)).encode()
            for name, url in urls.items():
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                times[name].append((time.perf_counter() - started) * 1000)
    over_direct = [b - d for b, d in zip(times["batching"], times["direct"], strict=True)]
    over_plain = [b - p for b, p in zip(times["batching"], times["plain"], strict=True)]
    plain_over_direct = [p - d for p, d in zip(times["plain"], times["direct"], strict=True)]
    return {
        "direct_p50_ms": statistics.median(times["direct"]),
        "batching_p50_ms": statistics.median(times["batching"]),
        "plain_p50_ms": statistics.median(times["plain"]),
        "added_p50_ms": statistics.median(over_direct),
        "plain_added_p50_ms": statistics.median(plain_over_direct),
        "batching_vs_plain_p50_ms": statistics.median(over_plain),
    }


def measure_proxied(
    url: str, admin: int, pid: int, workload: Workload, concurrency: int, args: argparse.Namespace
) -> dict[str, Any]:
    before_cpu = tree_cpu_seconds(pid)
    before = asyncio.run(scrape(admin, workload.model))
    result = asyncio.run(closed_loop(url, workload, concurrency, args.duration))
    after = asyncio.run(scrape(admin, workload.model))
    cpu = tree_cpu_seconds(pid) - before_cpu
    batches = after[1] - before[1]
    result["mean_batch"] = (after[0] - before[0]) / batches if batches else float("nan")
    result["proxy_cpu_us"] = cpu / max(result["requests"], 1) * 1e6
    return result


def median_of(rounds: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def environment_for_proxy() -> dict[str, str]:
    env = environment(_NoPath())
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class _NoPath:
    env = None


def table(results: dict[str, Any]) -> str:
    lines = []
    lines.append("| workload | direct p50 | plain proxy p50 | batching proxy p50 | added p50 vs direct | "
                 "plain proxy vs direct | batching vs plain proxy |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        i = rows["idle"]
        lines.append(
            f"| {name} | {i['direct_p50_ms']:.2f} | {i['plain_p50_ms']:.2f} | {i['batching_p50_ms']:.2f} | "
            f"{i['added_p50_ms']:+.2f} | {i['plain_added_p50_ms']:+.2f} | "
            f"{i['batching_vs_plain_p50_ms']:+.2f} |"
        )
    for name, rows in results.items():
        lines.append(f"\n#### {name} (max |Δ| proxied vs alone: {rows['max_abs_diff']:.2e})\n")
        lines.append(
            "| concurrency | direct req/s | inferlane req/s | ×direct (min–max) | direct p50 | inferlane p50 "
            "| added p50 | direct p99 | inferlane p99 | mean batch | proxy CPU µs/req |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for concurrency, level in rows["levels"].items():
            d, b = median_of(level["direct"]), median_of(level["inferlane"])
            ratios = sorted(
                x["rps"] / y["rps"] for x, y in zip(level["inferlane"], level["direct"], strict=True)
            )
            lines.append(
                f"| {concurrency} | {d['rps']:.0f} | {b['rps']:.0f} | {statistics.median(ratios):.2f} "
                f"({ratios[0]:.2f}–{ratios[-1]:.2f}) | {d['p50_ms']:.2f} | {b['p50_ms']:.2f} | "
                f"{b['p50_ms'] - d['p50_ms']:+.2f} | {d['p99_ms']:.2f} | {b['p99_ms']:.2f} | "
                f"{b['mean_batch']:.1f} | {b['proxy_cpu_us']:.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dynamic batching: direct vs through Inferlane")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per level (medians)")
    parser.add_argument("--pairs", type=int, default=200, help="rotations of the one-client latency check")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), default=sorted(WORKLOADS))
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument(
        "--server-threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads of the embedding server (default: every core; 1 pins it to CPU 0)",
    )
    parser.add_argument("--max-wait-ms", type=float, default=20.0)
    parser.add_argument("--max-concurrent-batches", type=int, default=1)
    args = parser.parse_args(argv)
    if "embed" in args.only and not EMBED_PYTHON.exists():
        print("bench.batching: the embedding venv is missing (run bench/setup.sh); skipping embed")
        args.only = [name for name in args.only if name != "embed"]
    os.sched_setaffinity(0, {PROXY_CPU})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            results[name] = run_workload(WORKLOADS[name], args, Path(tmp))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"settings": vars(args), "results": results}, indent=1))
    batching_plot.main([str(RESULTS), str(RESULTS.with_suffix(".svg"))])
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
