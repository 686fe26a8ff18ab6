"""The controller shell with a fake clock: measurements in, weights/metrics/logs out, reload semantics."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml

from inferlane.config.load import parse_config
from inferlane.config.rollouts import RolloutConfig
from inferlane.model import ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model
from inferlane.rollout.controller import RolloutController
from inferlane.stages.split.assign import FIRST_CHOICE_KEY, MODEL_KEY
from inferlane.stages.split.weights import WeightOverrides
from support.clock import Clock


def rollouts(**rollout: Any) -> list[RolloutConfig]:
    entry = {
        "model": "chat",
        "stableVersion": "v1",
        "canaryVersion": "v2",
        "steps": [{"setWeight": 20}, {"pause": {"duration": "10s"}}, {"setWeight": 60}, {"pause": {}}],
        "analysis": {"interval": "1s", "window": "30s", "minSamples": 10},
    }
    entry.update(rollout)
    models = [{"name": "chat", "versions": [{"version": v} for v in ("v1", "v2", "v3")]}]
    return parse_config(yaml.safe_dump({"models": models, "rollouts": [entry]})).rollouts


def ctx(model: str, version: str | None, first_choice: tuple[str, str] | None = None) -> RequestContext:
    """A finished request as the split stage leaves it: the registry model, the version, the served name."""
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, b"", "", 0.0)
    context = RequestContext(request, "r", 0.0, 10.0, {"model": "an-alias"})
    context.extra[MODEL_KEY] = Model(model)
    context.model = f"served-{model}-{version}"
    context.version = version
    if first_choice is not None:
        context.extra[FIRST_CHOICE_KEY] = first_choice
    return context


@pytest.fixture
def setup() -> tuple[RolloutController, WeightOverrides, ProxyMetrics, Clock]:
    overrides, metrics, clock = WeightOverrides(), ProxyMetrics(), Clock(1000.0)
    return RolloutController(overrides, metrics, clock), overrides, metrics, clock


def sample(metrics: ProxyMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def traffic(controller: RolloutController, clock: Clock, seconds: int, canary_status: int = 200) -> None:
    """20 requests a second for ``seconds``, split like the weights say, ticking each second."""
    for _ in range(seconds):
        clock.now += 1.0
        for i in range(20):
            canary = i < 20 * controller.rollouts["chat"].state.weight // 100
            status = canary_status if canary else 200
            controller.observe(ctx("chat", "v2" if canary else "v1"), status, "", 0.05)
        controller.tick()


def test_starts_with_the_first_weight_and_exports_it(setup: Any) -> None:
    controller, overrides, metrics, _ = setup
    controller.configure(rollouts())
    assert dict(overrides.get("chat")) == {"v1": 80, "v2": 20}
    assert sample(metrics, "inferlane_rollout_weight", model="chat", version="v2") == 20
    assert sample(metrics, "inferlane_rollout_step", model="chat") == 1
    assert sample(metrics, "inferlane_rollout_phase", model="chat", phase="Progressing") == 1
    assert sample(metrics, "inferlane_rollout_phase", model="chat", phase="Healthy") == 0


def test_healthy_canary_advances_to_a_pause_until_promoted(setup: Any) -> None:
    controller, overrides, _, clock = setup
    controller.configure(rollouts())
    traffic(controller, clock, 12)
    assert dict(overrides.get("chat")) == {"v1": 40, "v2": 60}
    status = controller.describe("chat")
    assert status["phase"] == "Paused" and "until promoted" in status["message"]
    assert status["analysis"]["lastResult"] == "Passed"
    assert status["analysis"]["versions"]["v2"]["samples"] > 0
    controller.command("chat", "promote")
    assert dict(overrides.get("chat")) == {"v1": 0, "v2": 100}
    assert controller.describe("chat")["phase"] == "Healthy"


def test_faulty_canary_rolls_back_with_log_and_metric(setup: Any, caplog: pytest.LogCaptureFixture) -> None:
    controller, overrides, metrics, clock = setup
    controller.configure(rollouts())
    with caplog.at_level(logging.INFO, logger="inferlane.rollout"):
        traffic(controller, clock, 5, canary_status=503)
    assert dict(overrides.get("chat")) == {"v1": 100, "v2": 0}
    assert sample(metrics, "inferlane_rollout_rollbacks_total", model="chat", reason="error_rate") == 1
    assert sample(metrics, "inferlane_rollout_phase", model="chat", phase="Degraded") == 1
    degraded = [r for r in caplog.records if getattr(r, "phase", None) == "Degraded"]
    assert len(degraded) == 1 and degraded[0].levelno == logging.WARNING
    assert "error rate 100.00% of canary 'v2'" in degraded[0].getMessage()


def test_thin_traffic_is_inconclusive(setup: Any) -> None:
    controller, overrides, _, clock = setup
    controller.configure(rollouts(analysis={"interval": "1s", "minSamples": 12}))
    for _ in range(15):
        clock.now += 1.0
        controller.observe(ctx("chat", "v2"), 200, "", 0.01)  # 1 req/s: the pause ends before 12 arrive
        controller.tick()
        if clock.now == 1011.0:
            assert controller.describe("chat")["phase"] == "Inconclusive"
            assert dict(overrides.get("chat")) == {"v1": 80, "v2": 20}
            assert "has 11 of the 12 samples needed in the last 1m" in controller.describe("chat")["message"]
    assert dict(overrides.get("chat")) == {"v1": 40, "v2": 60}  # enough samples arrived: moved on


def test_ignores_other_models_unversioned_and_client_hangups(setup: Any) -> None:
    controller, _, _, _clock = setup
    controller.configure(rollouts())
    controller.observe(ctx("other", "v2"), 500, "", 1.0)
    controller.observe(ctx("chat", None), 500, "", 1.0)
    controller.observe(ctx("chat", "v2"), 499, "client_disconnect", 1.0)
    controller.observe(None, 500, "bad_request", 1.0)
    assert controller.describe("chat")["analysis"]["versions"]["v2"]["samples"] == 0


def test_a_fallback_answer_counts_as_a_failure_of_the_version_that_failed(setup: Any) -> None:
    controller, _, _, _ = setup
    controller.configure(rollouts())
    controller.observe(ctx("bigger-model", "1", first_choice=("chat", "v2")), 200, "", 0.3)
    versions = controller.describe("chat")["analysis"]["versions"]
    assert versions["v2"] == {"samples": 1, "errors": 1, "errorRate": 1.0, "p99Ms": 300.0}
    assert versions["v1"]["samples"] == 0


def test_reload_keeps_state_restarts_on_new_versions_and_drops_removed(setup: Any) -> None:
    controller, overrides, metrics, clock = setup
    controller.configure(rollouts())
    controller.command("chat", "promote")
    assert controller.describe("chat")["weights"] == {"v1": 40, "v2": 60}
    clock.now += 1
    controller.configure(rollouts())  # unchanged: kept
    assert controller.describe("chat")["weights"] == {"v1": 40, "v2": 60}
    controller.configure(rollouts(canaryVersion="v3"))  # a new canary: a new rollout
    assert dict(overrides.get("chat")) == {"v1": 80, "v3": 20}
    assert sample(metrics, "inferlane_rollout_weight", model="chat", version="v2") is None
    controller.configure([])
    assert overrides.get("chat") is None
    assert sample(metrics, "inferlane_rollout_step", model="chat") is None


def test_resume_after_rollback_forgets_old_measurements(setup: Any) -> None:
    controller, overrides, _, clock = setup
    controller.configure(rollouts())
    traffic(controller, clock, 3, canary_status=500)
    assert controller.describe("chat")["phase"] == "Degraded"
    status = controller.command("chat", "resume")
    assert status["attempt"] == 2 and status["analysis"]["versions"]["v2"]["samples"] == 0
    assert dict(overrides.get("chat")) == {"v1": 80, "v2": 20}


def test_a_canary_slower_than_stable_at_the_same_time_rolls_back(setup: Any) -> None:
    controller, overrides, metrics, clock = setup
    controller.configure(rollouts(analysis={"interval": "1s", "minSamples": 10, "maxP99Ratio": 1.5}))
    for _ in range(5):
        clock.now += 1.0
        for i in range(20):
            canary = i < 4
            controller.observe(ctx("chat", "v2" if canary else "v1"), 200, "", 0.2 if canary else 0.05)
        controller.tick()
    assert dict(overrides.get("chat")) == {"v1": 100, "v2": 0}
    assert sample(metrics, "inferlane_rollout_rollbacks_total", model="chat", reason="p99_ratio") == 1
    assert "is 4.00x stable 'v1'" in controller.describe("chat")["message"]
