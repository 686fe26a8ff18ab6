"""docs/metrics.md and the code define the same metrics."""

from __future__ import annotations

import re
from pathlib import Path

from inferlane.observability.metrics import ProxyMetrics

DOCS = Path(__file__).parents[3] / "docs" / "metrics.md"


def documented() -> set[str]:
    return set(re.findall(r"^\| `([a-z_:]+)` \|", DOCS.read_text(), flags=re.MULTILINE))


def defined() -> set[str]:
    metrics = ProxyMetrics()
    metrics.watch_backends(list)
    metrics.watch_in_flight(lambda: 0)
    names = set()
    for family in metrics.registry.collect():
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


def test_docs_and_code_list_the_same_metrics():
    assert documented() == defined()
