"""``inferlane sim``: run a simulated fleet from a fleet file, or one model from flags, until stopped."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvloop
from pydantic import ValidationError

from inferlane.sim.fleet import SimFleet
from inferlane.sim.spec import FleetSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", help="fleet file (YAML); see docs/simulator.md")
    parser.add_argument("--model", help="quick form: serve one model under this name")
    parser.add_argument("--port", type=int, default=8000, help="quick form: first port (default 8000)")
    parser.add_argument("--replicas", type=int, default=1, help="quick form: replicas on consecutive ports")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--time-scale", type=float, default=None, help="wall seconds per simulated second")
    parser.add_argument("--kind", choices=["vllm", "tei", "tfserving", "kserve"], default="vllm")
    parser.add_argument("--preset", default=None, help="timing preset (h100-7b, h100x4-70b, zero, ...)")


def build_spec(args: argparse.Namespace) -> FleetSpec:
    if args.config:
        spec = FleetSpec.from_yaml_file(args.config)
        if args.time_scale is not None:
            spec = spec.model_copy(update={"time_scale": args.time_scale})
        return spec
    if not args.model:
        raise ValueError("give --config FILE, or --model NAME for the quick form")
    extra = {"preset": args.preset} if args.preset else {}
    scale = 1.0 if args.time_scale is None else args.time_scale
    return FleetSpec.quick(
        args.model, args.replicas, args.port, time_scale=scale, kind=args.kind, host=args.host, **extra
    )


async def serve(spec: FleetSpec) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimFleet(spec) as fleet:
        for replica in fleet.replicas:
            print(f"{replica.name}: {replica.kind} model {replica.model!r} at {replica.url}", flush=True)
        await stop.wait()
        print("stopping simulated fleet", flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        spec = build_spec(args)
    except (ValueError, ValidationError, OSError) as error:
        print(f"inferlane sim: {error}", file=sys.stderr)
        return 2
    try:
        uvloop.run(serve(spec))
    except OSError as error:
        print(f"inferlane sim: cannot start: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inferlane sim")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
