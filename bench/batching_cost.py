"""CPU per request spent merging and splitting, per protocol (in-process, no I/O).

For each protocol, batches of ``--batch`` single-item requests (one text, one instance, one row) go through
what the batcher does on the request path: the compatibility key of each request, one merge and JSON encode
of the batch, one JSON decode and split of a realistic answer, and one JSON encode per caller. The time is
divided by the requests.

    python -m bench.batching_cost [--batch 32] [--batches 300]

Prints a table and writes bench/results/batching_cost.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from inferlane.stages.batching.mergers import WireProtocol, merger_for

RESULTS = Path(__file__).resolve().parent / "results" / "batching_cost.json"
DIMS = 384


def _embeddings(n: int) -> tuple[list[dict[str, Any]], Any]:
    bodies = [{"model": "minilm", "input": f"a short sentence number {i} to embed"} for i in range(n)]
    data = [
        {"object": "embedding", "index": i, "embedding": [0.001 * k for k in range(DIMS)]} for i in range(n)
    ]
    answer = {
        "object": "list",
        "model": "minilm",
        "data": data,
        "usage": {"prompt_tokens": 9 * n, "total_tokens": 9 * n},
    }
    return bodies, answer


def _tei(n: int) -> tuple[list[dict[str, Any]], Any]:
    bodies = [{"inputs": f"a short sentence number {i} to embed"} for i in range(n)]
    return bodies, [[0.001 * k for k in range(DIMS)] for _ in range(n)]


def _tfserving(n: int) -> tuple[list[dict[str, Any]], Any]:
    bodies = [{"instances": [[0.1 * i + k for k in range(8)]]} for i in range(n)]
    return bodies, {"predictions": [[0.25, 0.25, 0.25, 0.25] for _ in range(n)]}


def _kserve(n: int) -> tuple[list[dict[str, Any]], Any]:
    bodies = [
        {"id": f"r{i}", "inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP32", "data": [0.1] * 8}]}
        for i in range(n)
    ]
    output = {"name": "y", "shape": [n, 4], "datatype": "FP32", "data": [0.25] * (4 * n)}
    return bodies, {"model_name": "tab", "outputs": [output]}


CASES: dict[WireProtocol, Callable[[int], tuple[list[dict[str, Any]], Any]]] = {
    "openai-embeddings": _embeddings,
    "tei-embed": _tei,
    "tfserving": _tfserving,
    "kserve-v2": _kserve,
}


def measure(protocol: WireProtocol, batch: int, batches: int) -> dict[str, float]:
    merger = merger_for(protocol)
    bodies, answer = CASES[protocol](batch)
    answer_bytes = orjson.dumps(answer)
    keyed = merged = split = 0.0
    for _ in range(batches):
        started = time.perf_counter()
        for body in bodies:
            merger.key(body)
        after_key = time.perf_counter()
        orjson.dumps(merger.merge(bodies))
        after_merge = time.perf_counter()
        for part in merger.split(orjson.loads(answer_bytes), bodies):
            orjson.dumps(part)
        done = time.perf_counter()
        keyed += after_key - started
        merged += after_merge - after_key
        split += done - after_merge
    per = 1e6 / (batch * batches)
    return {"key_us": keyed * per, "merge_us": merged * per, "split_us": split * per,
            "total_us": (keyed + merged + split) * per}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CPU per request in batch merging and splitting")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args(argv)
    results = {protocol: measure(protocol, args.batch, args.batches) for protocol in CASES}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"batch": args.batch, "results": results}, indent=1))
    print(f"| protocol (batches of {args.batch}) | key µs | merge µs | split µs | total µs/request |")
    print("|---|---|---|---|---|")
    for protocol, row in results.items():
        print(f"| {protocol} | {row['key_us']:.1f} | {row['merge_us']:.1f} | {row['split_us']:.1f} | "
              f"{row['total_us']:.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
