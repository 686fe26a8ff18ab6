"""Cost of observability on the proxy's CPU: seed + GenAI metrics, token accounting and tracing, on vs off.

Each mode runs as its own proxy processes (one for plain requests, one for streams) in front of the same
near-zero-cost upstreams (bench/upstream_server.py). Short bursts alternate between the modes in a shuffled
order each round, so noise from other work on the machine hits every mode alike; each burst's proxy CPU time
(all threads, from /proc/PID/task/*/schedstat in ns) is divided by the requests it served, and the report
gives the median over rounds.

  off        the proxy without metrics and tracing: no accounting stage, no request recorder, no tracer;
             only the request counter and duration (``inferlane_requests_total``, ``..._duration_seconds``)
             the core data plane always kept. The status page's and rollouts' hooks stay: they are not
             metrics or tracing (the status page's own cost: ``python -m bench.status_cost``)
  metrics    the default: seed names + ``inferlane_*`` GenAI family, token accounting, stream usage
  trace10    metrics + tracing, sampleRatio 0.1, exported over OTLP/HTTP to a local sink
  trace100   metrics + tracing, every request traced and exported

python -m bench.observability_cost [--rounds 12] [--requests 1000] [--streams 48]
python -m bench.observability_cost --micro     # the observer's own CPU per request, in-process
python -m bench.observability_cost --callgrind # user-space instructions per request (needs valgrind)
python -m bench.observability_cost --callgrind --request routed  # a 4 KiB prompt to a registry model
python -m bench.observability_cost --callgrind --kind stream     # streams of 50 events
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.procs import free_port, running
from bench.rawhttp import CHAT_BODY, Connection, request_bytes

MODES = ("off", "metrics", "trace10", "trace100")
PROXY_CPU, CLIENT_CPU = 1, 0


#: sample ratio of each tracing mode (``trace0``: the tracer on, no request sampled)
RATIOS = {"trace0": 0.0, "trace10": 0.1, "trace100": 1.0}
#: under valgrind the proxy runs ~50x slower, so the default 5 s export timer would post ~50x more often per
#: request than at real speed; with this interval spans leave in full batches of 512, as under load
SLOW_EXPORT_INTERVAL = "300s"


def config(mode: str, port: int, upstream: int, sink: int) -> dict[str, Any]:
    tracing: dict[str, Any] = {"enabled": False}
    if mode in RATIOS:
        endpoint = f"http://127.0.0.1:{sink}/v1/traces"
        tracing = {"enabled": True, "endpoint": endpoint, "sampleRatio": RATIOS[mode]}
        if os.environ.get("INFERLANE_BENCH_SLOW") == "1":
            tracing["exportInterval"] = SLOW_EXPORT_INTERVAL
    out: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": port, "adminHost": "127.0.0.1", "adminPort": 0},
        "routing": {"defaultEndpoint": f"http://127.0.0.1:{upstream}"},
        "healthCheck": {"enabled": False},
        "logging": {"accessLog": False, "level": "warning"},
        "tracing": tracing,
    }
    if os.environ.get("INFERLANE_BENCH_REQUEST") == "routed":
        # a registry model (alias → served name) on a vLLM pool: the default, prefix-aware picking
        backend = {"name": "qwen-pool", "engine": "vllm", "endpoints": [f"http://127.0.0.1:{upstream}"]}
        version = {"version": "2.5", "backend": "qwen-pool", "servedName": "Qwen/Qwen2.5-7B-Instruct"}
        out["backends"] = [backend]
        out["models"] = [{"name": "qwen-chat", "aliases": ["gpt-4o"], "versions": [version]}]
        del out["routing"]
    return out


#: the ``routed`` request: a 4 KiB chat prompt naming a registry alias
ROUTED_BODY = (
    b'{"model":"gpt-4o","max_tokens":128,"temperature":0.7,"messages":'
    b'[{"role":"system","content":"You are a helpful assistant for a retail support desk."},'
    b'{"role":"user","content":"' + b"Where is my order? " * 210 + b'"}]}'
)


async def serve(mode: str, port: int, upstream: int, sink: int) -> None:
    """The proxy under test, in this process (``off`` removes the observability hooks)."""
    from inferlane.config.schema import ProxyConfig
    from inferlane.pipeline.registry import StageRegistry
    from inferlane.server.app import App
    from inferlane.stages.builtin import register_builtin

    registry = StageRegistry()
    register_builtin(registry)
    if mode == "off":
        registry._specs.pop("metrics")
    app = App(ProxyConfig.model_validate(config(mode, port, upstream, sink)), registry=registry)
    await app.start()
    if mode == "off":
        assert app.listeners is not None
        hooks = app.listeners.edge.finished_hooks
        hooks[hooks.index(app.observer.finished)] = base_counters(app)
    if app.observer.tracer is not None:
        app.observer.tracer.rng.seed(1)  # the same sampled requests in every run
    await asyncio.Event().wait()


def base_counters(app: Any) -> Any:
    """The ``off`` mode's finished hook: one count and duration per (route, backend, status, error)."""
    from inferlane.observability.labels import NONE

    durations = app.metrics.request_latencies

    def count(ctx: Any, status: int, error_kind: str, seconds: float) -> None:
        route, backend = (ctx.route, ctx.backend or NONE) if ctx is not None else (NONE, NONE)
        durations.child((route, backend, NONE, NONE, status, NONE, error_kind)).observe(seconds)

    return count


async def sink(port: int) -> None:
    """An OTLP/HTTP receiver that accepts and drops every export."""
    from aiohttp import web

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def load(port: int, count: int, stream: bool, concurrency: int = 16) -> int:
    body = ROUTED_BODY if os.environ.get("INFERLANE_BENCH_REQUEST") == "routed" else CHAT_BODY
    payload = request_bytes("/v1/chat/completions", body, port, stream=stream)
    remaining, errors = count, 0

    async def worker() -> None:
        nonlocal remaining, errors
        conn = await Connection.open(port)
        try:
            while remaining > 0:
                remaining -= 1
                if (await conn.exchange(payload, timeout=60)).status != 200:
                    errors += 1
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` in ns (schedstat: no 10 ms tick rounding)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


def measure(
    pids: dict[str, dict[str, tuple[int, int]]], mode: str, requests: int, streams: int
) -> dict[str, float]:
    """One burst of each kind against ``mode``'s proxies: CPU µs per request."""
    out: dict[str, float] = {}
    for kind, count in (("plain", requests), ("stream", streams)):
        pid, port = pids[mode][kind]
        before = cpu_ns(pid)
        errors = uvloop.run(load(port, count, kind == "stream"))
        out[f"{kind}_cpu_us"] = (cpu_ns(pid) - before) / count / 1e3
        if errors:
            out[f"{kind}_errors"] = errors
    return out


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=48)
    parser.add_argument("--micro", action="store_true", help="only the in-process cost of the observer")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request under valgrind")
    parser.add_argument(
        "--request",
        choices=("cheapest", "routed"),
        default="cheapest",
        help="cheapest: a 1 KiB prompt to a default endpoint; routed: a 4 KiB prompt to a registry model",
    )
    parser.add_argument(
        "--kind",
        choices=("plain", "stream"),
        default="plain",
        help="with --callgrind: non-streaming requests, or streams of 50 events (one at a time)",
    )
    args = parser.parse_args()
    os.environ["INFERLANE_BENCH_REQUEST"] = args.request  # read by the proxies started below and by load()
    if args.micro:
        micro()
        return
    if args.callgrind and args.kind == "stream":
        instructions(("off", "metrics", "trace0", "trace10", "trace100"), 12, kind="stream")
        return
    if args.callgrind:
        instructions(("off", "metrics", "trace0", "trace10", "trace100"), 600, rounds=5)
        return
    plain, sse, sink_port = free_port(), free_port(), free_port()
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    here = [sys.executable, "-m"]
    with contextlib.ExitStack() as stack:
        stack.enter_context(running([*here, "bench.upstream_server", "plain", str(plain)], CLIENT_CPU, plain))
        stack.enter_context(running([*here, "bench.upstream_server", "sse", str(sse)], CLIENT_CPU, sse))
        stack.enter_context(
            running([*here, "bench.observability_cost", "sink", str(sink_port)], CLIENT_CPU, sink_port)
        )
        pids: dict[str, dict[str, tuple[int, int]]] = {}
        for mode in MODES:
            for kind, upstream in (("plain", plain), ("stream", sse)):
                port = free_port()
                argv = [
                    *here,
                    "bench.observability_cost",
                    "serve",
                    mode,
                    str(port),
                    str(upstream),
                    str(sink_port),
                ]
                pid = stack.enter_context(running(argv, PROXY_CPU, port))
                uvloop.run(load(port, 200 if kind == "plain" else 16, kind == "stream"))  # warm-up
                pids.setdefault(mode, {})[kind] = (pid, port)
        rng = random.Random(1)
        for round_no in range(args.rounds):
            order = list(MODES)
            rng.shuffle(order)  # noise from other work hits every mode alike
            for mode in order:
                results[mode].append(measure(pids, mode, args.requests, args.streams))
            print(
                f"  round {round_no + 1}: "
                + ", ".join(
                    f"{m} {results[m][-1]['plain_cpu_us']:.0f}/{results[m][-1]['stream_cpu_us']:.0f}"
                    for m in MODES
                ),
                flush=True,
            )
    report(results)


def instructions(modes: tuple[str, ...], requests: int, rounds: int = 3, kind: str = "plain") -> None:
    """User-space instructions per non-streaming request of each mode's proxy under callgrind, median of
    ``rounds`` interleaved runs: steadier than CPU time on a shared machine (kernel time, which observability
    does not add to, is not counted). Each round runs every mode with the same fixed ``PYTHONHASHSEED`` (the
    round's number): string hashes set the dicts' probe sequences and so move the counts by a few thousand
    instructions per request from one memory layout to the next; a fixed seed makes a round's modes
    comparable, and a different seed per round keeps one lucky or unlucky layout from deciding the median.
    Streams (``kind="stream"``) go one at a time: with several at once their events coalesce differently
    from run to run under valgrind, and the counts stop being reproducible."""
    counts: dict[str, list[float]] = {mode: [] for mode in modes}
    for round_no in range(rounds):
        for mode in modes:
            counts[mode].append(_callgrind(mode, kind, requests, hash_seed=round_no))
            print(f"  round {round_no + 1} {mode}: {counts[mode][-1]:,.0f}", flush=True)
    base = statistics.median(counts[modes[0]])
    unit = "request" if kind == "plain" else "stream of 50 events"
    print(f"\n| mode | instructions per {unit} (user space), median (min–max) | vs off |\n|---|---|---|")
    for mode, values in counts.items():
        median = statistics.median(values)
        spread = f"{median:,.0f} ({min(values):,.0f}–{max(values):,.0f})"
        print(f"| {mode} | {spread} | {(median / base - 1) * 100:+.1f}% |")
    if {"trace0", "trace100"} <= counts.keys():
        # a run samples its own ~10% (seeded): the expectation is the untraced cost plus a tenth of a trace's
        unsampled, traced = statistics.median(counts["trace0"]), statistics.median(counts["trace100"])
        expected = unsampled + 0.1 * (traced - unsampled)
        label = "trace10, expected (trace0 + 10% of a trace)"
        print(f"| {label} | {expected:,.0f} | {(expected / base - 1) * 100:+.1f}% |")


def _callgrind(mode: str, kind: str, count: int, hash_seed: int = 0) -> float:
    upstream, sink_port, port = free_port(), free_port(), free_port()
    here = [sys.executable, "-m"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
        argv += [*here, "bench.observability_cost", "serve", mode, str(port), str(upstream), str(sink_port)]
        mode_kind = "plain" if kind == "plain" else "sse"
        with (
            running([*here, "bench.upstream_server", mode_kind, str(upstream)], None, upstream),
            running([*here, "bench.observability_cost", "sink", str(sink_port)], None, sink_port),
            running(
                argv,
                None,
                port,
                env={**os.environ, "PYTHONHASHSEED": str(hash_seed), "INFERLANE_BENCH_SLOW": "1"},
            ) as pid,
        ):
            concurrency = 4 if kind == "plain" else 1
            # warm-up, long enough that sampled requests fill the span templates' caches before counting
            # (with 4 streams none was sampled, and the first traced stream's one-time encoding was counted)
            uvloop.run(load(port, 50 if kind == "plain" else 24, kind == "stream", concurrency))
            subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
            uvloop.run(load(port, count, kind == "stream", concurrency))
            subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
        dumps = sorted(Path(tmp).glob("callgrind.out.*"))
        for line in dumps[0].read_text().splitlines() if dumps else ():
            if line.startswith("summary:"):
                return int(line.split()[1]) / count
    raise RuntimeError(f"no callgrind dump for {mode} {kind}")


def micro(count: int = 20000) -> None:
    """The observability work of one request alone, in-process (stable where whole-proxy CPU is noisy)."""
    from bench.upstream_server import BODY, CHUNK
    from inferlane.config.observability import TracingConfig
    from inferlane.model import Endpoint, ProxyRequest
    from inferlane.observability.metrics import ProxyMetrics
    from inferlane.observability.observer import Observer
    from inferlane.observability.sse_usage import SseUsageTap
    from inferlane.observability.tracing import Tracer
    from inferlane.observability.usage import find_usage
    from inferlane.pipeline.context import RequestContext

    endpoint = Endpoint("pool", "http://10.0.0.7:8000")
    headers = {"host": "127.0.0.1:15001"}

    def context() -> RequestContext:
        now = time.monotonic()
        request = ProxyRequest(
            "POST", "/v1/chat/completions", "/v1/chat/completions", headers, CHAT_BODY, "", 0.0
        )
        ctx = RequestContext(request, "rid", now, now + 60, {"model": "bench"})
        ctx.route, ctx.backend = "default", "pool"
        return ctx

    def one(observer: Observer) -> None:
        ctx = context()
        obs = observer.begin(ctx)
        obs.attempt_ended(obs.attempt_started(ctx), "pool", endpoint, 200, "")
        ctx.usage = find_usage(BODY)
        observer.finished(ctx, 200, "", 0.0012)

    started = time.process_time()
    for _ in range(count):
        context()
    base = (time.process_time() - started) / count * 1e6  # the request objects themselves, not observability
    rows = []
    for label, ratio in (("metrics", None), ("metrics + tracing (every request)", 1.0)):
        tracer = Tracer(TracingConfig(enabled=True, sample_ratio=ratio), lambda r, n: None) if ratio else None
        observer = Observer(ProxyMetrics(), time.monotonic, tracer)
        for _ in range(1000):
            one(observer)
        if tracer is not None:
            tracer.exporter.pending.clear()
            tracer.exporter.max_pending = count + 1000
        started = time.process_time()
        for _ in range(count):
            one(observer)
        rows.append((label, (time.process_time() - started) / count * 1e6 - base))
    tap = SseUsageTap(True, time.monotonic)
    tap.feed(CHUNK)
    started = time.process_time()
    for _ in range(count * 5):
        tap.feed(CHUNK)
    rows.append(("SSE tap, per streamed event", (time.process_time() - started) / count / 5 * 1e6))
    print("\n| observability work | CPU µs |\n|---|---|")  # per request, or per event for the tap
    for label, micros in rows:
        print(f"| {label} | {micros:.1f} |")


def report(results: dict[str, list[dict[str, float]]]) -> None:
    base = {k: statistics.median(r[k] for r in results["off"]) for k in ("plain_cpu_us", "stream_cpu_us")}
    print("\n| mode | CPU µs / request (non-streaming) | vs off | CPU µs / stream (50 events) | vs off |")
    print("|---|---|---|---|---|")
    for mode, rows in results.items():
        cells = []
        for key in ("plain_cpu_us", "stream_cpu_us"):
            values = [r[key] for r in rows]
            median = statistics.median(values)
            cells.append(f"{median:.0f} ({min(values):.0f}–{max(values):.0f})")
            cells.append(f"{(median / base[key] - 1) * 100:+.1f}%")
        print(f"| {mode} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        uvloop.run(serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
    elif len(sys.argv) > 1 and sys.argv[1] == "sink":
        uvloop.run(sink(int(sys.argv[2])))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        main()
