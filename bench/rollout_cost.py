"""What progressive rollouts cost: the per-request observer on the hot path, and the periodic check.

``RolloutController.observe`` runs for every finished request (an ``Edge.finished_hooks`` observer):
measured with no rollout configured, for a request of a model under rollout (one window append), and for
a request of another model while rollouts exist. The check (``tick`` when analysis is due) sorts the
canary's window for its p99: measured with full windows (20,000 samples, the cap) and with comparison to
the stable version on. Best of ``--rounds``; CPU of this process only, no event loop.

    python -m bench.rollout_cost [--calls 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

import yaml

from inferlane.config.load import parse_config
from inferlane.model import ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model
from inferlane.rollout.analysis import WINDOW_CAPACITY
from inferlane.rollout.controller import RolloutController
from inferlane.stages.split.assign import MODEL_KEY
from inferlane.stages.split.weights import WeightOverrides


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def controller(rollouts: int, compare: bool) -> tuple[RolloutController, Clock]:
    analysis: dict[str, Any] = {"window": "1h", "interval": "1s", "minSamples": 100}
    if compare:
        analysis.update(maxP99Ratio=1.5, maxErrorRateIncrease=0.01)
    config = {
        "models": [
            {"name": f"m{i}", "versions": [{"version": "v1"}, {"version": "v2"}]} for i in range(rollouts)
        ],
        "rollouts": [
            {
                "model": f"m{i}",
                "stableVersion": "v1",
                "canaryVersion": "v2",
                "steps": [{"setWeight": 50}, {"pause": {}}],
                "analysis": analysis,
            }
            for i in range(rollouts)
        ],
    }
    clock = Clock()
    made = RolloutController(WeightOverrides(), ProxyMetrics(), clock)
    made.configure(parse_config(yaml.safe_dump(config)).rollouts)
    return made, clock


def context(model: str, version: str) -> RequestContext:
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, b"", "", 0.0)
    ctx = RequestContext(request, "r", 0.0, 10.0, {"model": model})
    ctx.extra[MODEL_KEY] = Model(model)
    ctx.version = version
    return ctx


def best(rounds: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(rounds))


def observe_cost(rollouts: int, model: str, calls: int, rounds: int) -> float:
    """µs per observed request."""
    ctx = context(model, "v2")

    def run() -> float:
        made, _ = controller(rollouts, compare=False)
        observe = made.observe
        started = time.perf_counter()
        for _ in range(calls):
            observe(ctx, 200, "", 0.05)
        return (time.perf_counter() - started) / calls * 1e6

    return best(rounds, run)


def check_cost(compare: bool, rounds: int) -> float:
    """ms per check of one rollout whose windows are full."""
    rng = random.Random(1)

    def run() -> float:
        made, clock = controller(1, compare)
        for version in ("v1", "v2"):
            ctx = context("m0", version)
            for _ in range(WINDOW_CAPACITY):
                made.observe(ctx, 200, "", rng.uniform(0.01, 0.3))
        tracked = made.rollouts["m0"]
        clock.now = tracked.state.next_check
        started = time.perf_counter()
        made.tick()
        return (time.perf_counter() - started) * 1e3

    return best(rounds, run)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = [
        ("observe: no rollout configured", observe_cost(0, "m0", args.calls, args.rounds), "µs"),
        (
            "observe: a model under rollout (window append)",
            observe_cost(10, "m3", args.calls, args.rounds),
            "µs",
        ),
        (
            "observe: another model, 10 rollouts configured",
            observe_cost(10, "other", args.calls, args.rounds),
            "µs",
        ),
        (f"check: canary window full ({WINDOW_CAPACITY:,} samples)", check_cost(False, args.rounds), "ms"),
        ("check: both windows full, compared with stable", check_cost(True, args.rounds), "ms"),
    ]
    print("| case | cost |\n|---|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value:.2f} {unit} |")


if __name__ == "__main__":
    main()
