"""The /admin/status document assembled from App state, config, live weights and finished requests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from inferlane.config.load import parse_config
from inferlane.model import Endpoint, ProxyRequest
from inferlane.pipeline.context import RequestContext
from inferlane.server.status import StatusFeed
from inferlane.server.status_sources import batching_from_metrics, splits_of
from inferlane.stages.split.weights import WeightOverrides
from support.clock import Clock

CONFIG = parse_config(
    """
backends:
  - {name: qwen, endpoints: ["http://10.0.0.1:8000"]}
  - {name: bge, endpoints: ["http://10.0.0.2:8000"]}
routing:
  defaultBackend: qwen
  endpoints:
    - {name: embed, pathPrefix: /v1/embeddings, backend: bge, batchEnabled: true, model: bge-small}
    - {path: /v1/chat/completions, models: ["qwen*"]}
"""
)


def feed(state: dict[str, Any] | None = None) -> tuple[StatusFeed, WeightOverrides, Clock]:
    overrides, clock = WeightOverrides(), Clock(1000.0)
    base = {"generation": 2, "ready": True, "draining": False, "backends": {}}
    return StatusFeed(lambda: {**base, **(state or {})}, lambda: CONFIG, overrides, clock), overrides, clock


def context(model: str = "qwen-7b") -> RequestContext:
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, b"{}", "1.2.3.4", 0.0)
    ctx = RequestContext(request, "req-1", 0.0, 60.0, {"model": model, "messages": "secret prompt"})
    ctx.route, ctx.backend = "chat", "qwen"
    ctx.endpoint = Endpoint("qwen", "http://10.0.0.1:8000")
    return ctx


def test_routes_come_from_config_with_the_default_backend_last() -> None:
    status, _, _ = feed()
    routes = [
        (r["name"], r["match"], r["models"], r["backend"], r["batching"]) for r in status.snapshot()["routes"]
    ]
    assert routes == [
        ("embed", "/v1/embeddings*", ["bge-small"], "bge", True),
        ("/v1/chat/completions", "/v1/chat/completions", ["qwen*"], "qwen", False),
        ("default", "*", [], "qwen", False),
    ]


def test_live_weights_win_over_the_ones_stages_report_from_config() -> None:
    reported = [{"model": "qwen", "weights": {"v1": 100}}, {"model": "bge", "weights": {"a": 1, "b": 1}}]
    status, overrides, _ = feed({"splits": reported})
    overrides.set("qwen", {"v1": 50, "v2": 50})
    assert status.snapshot()["splits"] == [
        {"model": "qwen", "weights": {"v1": 50, "v2": 50}, "source": "live"},
        {"model": "bge", "weights": {"a": 1, "b": 1}, "source": "config"},
    ]


def test_sections_other_stages_report_pass_through_and_default_to_null() -> None:
    status, _, _ = feed()
    snapshot = status.snapshot()
    assert (snapshot["rollouts"], snapshot["batching"], snapshot["splits"]) == (None, None, [])
    rollouts = [{"model": "qwen", "phase": "Progressing"}]
    status, _, _ = feed({"rollouts": rollouts, "batching": {"bge": {"queued": 1}}})
    snapshot = status.snapshot()
    assert snapshot["rollouts"] == rollouts and snapshot["batching"] == {"bge": {"queued": 1}}
    assert (snapshot["generation"], snapshot["ready"], snapshot["draining"]) == (2, True, False)


def test_finished_requests_feed_traffic_and_errors_without_bodies() -> None:
    status, _, clock = feed()
    status.record(context(), 200, "", 0.05)
    status.record(context(), 503, "circuit_open", 0.001)
    status.record(None, 400, "bad_request", 0.0)
    clock.now += 1.5
    snapshot = status.snapshot()
    assert snapshot["uptime_s"] == 1.5
    traffic = snapshot["traffic"]
    assert (traffic["total_requests"], traffic["total_errors"]) == (3, 1)
    assert traffic["samples"][-1]["t"] == 1000 and traffic["samples"][-1]["requests"] == 3
    newest, oldest = snapshot["errors"]
    assert newest["status"] == 400 and newest["route"] == "-" and newest["endpoint"] == "-"
    assert oldest == {
        "at": 1000.0, "request_id": "req-1", "route": "chat", "model": "qwen-7b", "backend": "qwen",
        "endpoint": "10.0.0.1:8000", "status": 503, "error_kind": "circuit_open", "seconds": 0.001,
    }  # fmt: skip
    assert "secret prompt" not in repr(snapshot)


def test_a_client_chosen_model_name_is_cut_short() -> None:
    status, _, _ = feed()
    status.record(context("x" * 10_000), 404, "", 0.0)
    assert status.snapshot()["errors"][0]["model"] == "x" * 120


def test_batching_stats_come_from_the_batchers_metrics() -> None:
    registry = CollectorRegistry()
    assert batching_from_metrics(registry) is None
    queued = Gauge("request_queue_depth", "", ["model"], registry=registry)
    average = Gauge("batch_size_avg", "", ["model"], registry=registry)
    batches = Counter("inferlane_batch_batches_total", "", ["model"], registry=registry)
    Counter("unrelated_total", "", registry=registry).inc()
    queued.labels("bge").set(3)
    average.labels("bge").set(7.25)
    batches.labels("bge").inc(41)
    batches.labels("resnet").inc(2)
    dropped = Counter("inferlane_batch_dropped_total", "", ["model", "reason"], registry=registry)
    dropped.labels("bge", "deadline").inc(2)
    dropped.labels("bge", "queue_full").inc(5)
    assert batching_from_metrics(registry) == {
        "bge": {"queued": 3.0, "avg_batch_size": 7.25, "batches": 41.0, "dropped": 7.0},
        "resnet": {"batches": 2.0},
    }
    status = StatusFeed(dict, lambda: CONFIG, WeightOverrides(), Clock(1000.0), batching=lambda: {"x": {}})
    assert status.snapshot()["batching"] == {"x": {}}


def test_versioned_models_in_config_show_their_weights_until_changed_live() -> None:
    version = SimpleNamespace
    models = [
        SimpleNamespace(
            name="qwen", versions=[version(version="v1", weight=90), version(version="v2", weight=10)]
        ),
        SimpleNamespace(name="bge", versions=[]),
        SimpleNamespace(name="resnet", versions=[version(version="1", weight=1)]),
    ]
    config = SimpleNamespace(models=models)
    assert splits_of(WeightOverrides(), {}, config) == [
        {"model": "qwen", "weights": {"v1": 90, "v2": 10}, "source": "config"}
    ]
    overrides = WeightOverrides()
    overrides.set("qwen", {"v1": 0, "v2": 100})
    assert splits_of(overrides, {}, config) == [
        {"model": "qwen", "weights": {"v1": 0, "v2": 100}, "source": "live"}
    ]
    assert splits_of(WeightOverrides(), {}, CONFIG) == []  # a build without a model registry


def test_a_stream_that_broke_after_its_200_is_an_error() -> None:
    status, _, _ = feed()
    status.record(context(), 200, "upstream_reset", 1.5)
    snapshot = status.snapshot()
    assert snapshot["traffic"]["total_errors"] == 1
    assert snapshot["errors"][0]["error_kind"] == "upstream_reset"
