"""``inferlane <command>``: proxy, check-config, sim, demo, rollout, top."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from inferlane import __version__


def _proxy(args: argparse.Namespace) -> int:
    from inferlane.cli.proxy import run_proxy

    return run_proxy(args.config)


def _check(args: argparse.Namespace) -> int:
    from inferlane.cli.config_file import config_notes, load_or_report

    config = load_or_report(args.file)
    if isinstance(config, int):
        return config
    backends = ", ".join(f"{b.name} ({len(b.endpoints)} endpoint(s))" for b in config.all_backends())
    print(f"{args.file}: OK — routes: {len(config.routing.endpoints)}, backends: {backends or 'none'}")
    for note in config_notes(config):
        print(f"  note: {note}")
    return 0


def _sim(args: argparse.Namespace) -> int:
    from inferlane.cli.sim import run

    return run(args)


def _demo(args: argparse.Namespace) -> int:
    from inferlane.cli.demo import run_demo

    return run_demo(args)


def _rollout(args: argparse.Namespace) -> int:
    from inferlane.cli.rollout import run

    return run(args)


def _top(args: argparse.Namespace) -> int:
    from inferlane.cli.top import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferlane", description="AI inference proxy for Kubernetes")
    parser.add_argument("--version", action="version", version=f"inferlane {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    proxy = sub.add_parser("proxy", help="run the proxy (app port 15001, admin port 15020)")
    proxy.add_argument("--config", "-c", required=True, help="path to the YAML config (or a ConfigMap)")
    proxy.set_defaults(func=_proxy)
    check = sub.add_parser("check-config", help="validate a config file and report every problem")
    check.add_argument("file")
    check.set_defaults(func=_check)
    sim = sub.add_parser("sim", help="run a simulated vLLM-compatible model fleet")
    from inferlane.cli.sim import add_arguments

    add_arguments(sim)
    sim.set_defaults(func=_sim)
    demo = sub.add_parser("demo", help="run a simulated fleet with the proxy in front of it")
    demo.add_argument("--port", type=int, default=15001)
    demo.add_argument("--admin-port", type=int, default=15020)
    demo.add_argument(
        "--rollout",
        action="store_true",
        help="also roll the 7B model out to its canary (guides/canary-rollout.md)",
    )
    demo.set_defaults(func=_demo)
    rollout = sub.add_parser("rollout", help="show or drive a progressive rollout (talks to the admin API)")
    from inferlane.cli.rollout import add_arguments as add_rollout_arguments

    add_rollout_arguments(rollout)
    rollout.set_defaults(func=_rollout)
    top = sub.add_parser(
        "top", help="live view of a running proxy (endpoints, routes, errors) in the terminal"
    )
    from inferlane.cli.top import add_arguments as add_top_arguments

    add_top_arguments(top)
    top.set_defaults(func=_top)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
