"""Every metric the rules, alerts and Grafana dashboard in deploy/observability/ read is one Inferlane
defines (ProxyMetrics) or one a named external exporter defines (vLLM, NVIDIA DCGM)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferlane.observability.metrics import ProxyMetrics

FOLDER = Path(__file__).parents[3] / "deploy" / "observability"
DOCS = Path(__file__).parents[3] / "docs" / "metrics.md"

#: metrics of the model servers and GPUs, not of Inferlane (vLLM's current names; NVIDIA dcgm-exporter)
EXTERNAL = {
    "vllm:kv_cache_usage_perc",
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:num_preemptions",
    "vllm:time_to_first_token_seconds",
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_DEV_FB_USED",
}


PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan", "le",
}  # fmt: skip
SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def defined() -> set[str]:
    """Names ProxyMetrics registers (every sample name: _total, _bucket, _sum, _count) and the ones
    docs/metrics.md lists (a test keeps docs and code equal; this also covers collectors a build registers
    in ways this test does not call)."""
    metrics = ProxyMetrics()
    metrics.watch_in_flight(lambda: 0)
    metrics.watch_backends(list)
    documented = re.findall(r"^\| `([a-zA-Z_:][\w:]*)` \|", DOCS.read_text(), flags=re.MULTILINE)
    return set(metrics.registry._names_to_collectors) | set(documented)


def metric_names(expr: str) -> set[str]:
    """Series names a PromQL expression (or Grafana ``label_values(metric, label)``) selects."""
    expr = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)", r"\1", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\w+", "", expr)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        name, call = match.groups()
        if call is None and name not in PROMQL_WORDS:
            names.add(name)
    return names


def _dashboard_exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from _dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_exprs(item)


def rule_files() -> dict[str, list[dict[str, Any]]]:
    return {
        name: [
            rule for group in yaml.safe_load((FOLDER / name).read_text())["groups"] for rule in group["rules"]
        ]
        for name in ("recording-rules.yaml", "alerts.yaml")
    }


def used_names() -> dict[str, set[str]]:
    """{file: metric names it reads}, recording-rule outputs left out."""
    rules = rule_files()
    recorded = {rule["record"] for rule in rules["recording-rules.yaml"]}
    used = {name: {n for r in rs for n in metric_names(r["expr"])} for name, rs in rules.items()}
    dashboard = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    used["grafana-dashboard.json"] = {n for e in _dashboard_exprs(dashboard) for n in metric_names(e)}
    return {name: names - recorded for name, names in used.items()}


def base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def known(name: str, inferlane: set[str]) -> bool:
    if name in inferlane or base(name) in inferlane:
        return True
    allowed = {base(n) for n in EXTERNAL}
    return name in EXTERNAL or base(name) in allowed


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("ai:inference:latency_p99 > 5", {"ai:inference:latency_p99"}),
        (
            'histogram_quantile(0.99, sum by (le, m) (rate(http_request_seconds_bucket{a="b"}[5m])))',
            {"http_request_seconds_bucket"},
        ),
        ('sum by (backend) (a * (1 - b{x=~"y|z"})) == 0', {"a", "b"}),
        ("max by (model_name) (vllm:kv_cache_usage_perc) > 0.9", {"vllm:kv_cache_usage_perc"}),
        ("rate(x_total[$__rate_interval]) / ignoring(code) group_left rate(y[1m])", {"x_total", "y"}),
        ("label_values(http_requests_total, model)", {"http_requests_total"}),
        ("sum(rate(m[5m] offset 1h)) and on(instance) up", {"m", "up"}),
    ],
)
def test_metric_names_are_found_in_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_rules_and_dashboard_read_only_known_metrics() -> None:
    inferlane = defined()
    unknown = {
        file: sorted(n for n in names if not known(n, inferlane)) for file, names in used_names().items()
    }
    assert unknown == {file: [] for file in unknown}


def test_rules_and_dashboard_use_the_seed_names() -> None:
    used = set().union(*used_names().values())
    seed = {
        "http_request_duration_seconds_bucket", "ai_inference_tokens_total", "DCGM_FI_DEV_GPU_UTIL",
        "ai_inference_batch_size_sum", "ai_inference_request_queue_depth", "inference_latency_ms_bucket",
        "model_tokens_per_second", "batch_size_avg", "request_queue_depth", "model_load_time_seconds",
        "http_requests_total", "ai_router_route_decision_total", "ai_router_request_latency_seconds_bucket",
    }  # fmt: skip
    assert seed - used == set()


def test_external_names_are_not_inferlane_names() -> None:
    assert not any(name.startswith("inferlane_") for name in EXTERNAL)
