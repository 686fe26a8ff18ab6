"""``make bench``: run the benchmarks, print markdown tables, write JSON under bench/results/.

python -m bench.run_all            # full: 3 rounds of every installed path, then the scale tests
python -m bench.run_all --quick    # 1 short round, for a smoke check (about 2 minutes)
python -m bench.run_all --only inferlane aiohttp-floor
python -m bench.run_all --batching # also the dynamic-batching benchmark (real model; ~10 minutes more)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from bench import batching, batching_cost, overhead, report, scale, sim_cost

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--soak-seconds", type=float, default=None)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--batching", action="store_true", help="also run bench.batching and its cost")
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("bench: needs wrk and taskset (run: make sysdeps, or bench/setup.sh)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    rounds = args.rounds or (1 if args.quick else 3)
    if not args.skip_overhead:
        print(f"overhead: {rounds} round(s)")
        results = overhead.run(rounds, args.quick, args.only)
        (RESULTS / "overhead.json").write_text(json.dumps(results, indent=1))
        print()
        print(report.tables(results))
    print()
    print("simulator cost (zero simulated latency):")
    sim_cost.main(["--requests", "3000"] if args.quick else [])
    if not args.skip_scale:
        soak = args.soak_seconds if args.soak_seconds is not None else (20 if args.quick else 120)
        scaled = scale.run(args.quick, soak)
        (RESULTS / "scale.json").write_text(json.dumps(scaled, indent=1))
        print()
        print(scale.table(scaled))
    if args.batching:
        print()
        print("dynamic batching (direct vs through Inferlane):")
        batching.main(["--rounds", "1", "--duration", "4"] if args.quick else [])
        print()
        batching_cost.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
