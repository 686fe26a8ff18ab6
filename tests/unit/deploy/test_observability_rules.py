"""The Prometheus files in deploy/observability/ pass the real promtool: syntax, and the rule unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

FOLDER = Path(__file__).parents[3] / "deploy" / "observability"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool (Debian package prometheus) is not installed; make sysdeps installs it"
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=FOLDER, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
def test_rules_and_alerts_are_valid() -> None:
    result = promtool("check", "rules", "recording-rules.yaml", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_example_prometheus_config_is_valid() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
@pytest.mark.parametrize("name", sorted(p.name for p in (FOLDER / "tests").glob("*.test.yaml")))
def test_rule_unit_tests_pass(name: str) -> None:
    result = promtool("test", "rules", f"tests/{name}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_seed_alert_is_kept_with_its_threshold_and_duration() -> None:
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load((FOLDER / "alerts.yaml").read_text())["groups"]
        for rule in group["rules"]
    }
    seed = {
        "InferenceHighLatency": ("> 5", "5m"),
        "GPUUtilizationLow": ("< 30", "10m"),
        "ModelNotHealthy": ("== 0", "3m"),
        "KVCacheNearFull": ("> 0.9", "5m"),
        "RequestQueueBacklog": ("> 10", "2m"),
    }
    for name, (threshold, duration) in seed.items():
        assert rules[name]["expr"].strip().endswith(threshold), name
        assert rules[name]["for"] == duration, name
    for rule in rules.values():
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}


def test_every_alert_has_a_promtool_unit_test() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load((FOLDER / "alerts.yaml").read_text())["groups"]
        for rule in group["rules"]
    }
    tested = {
        case["alertname"]
        for path in (FOLDER / "tests").glob("*.test.yaml")
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == tested


def test_otel_collector_pipelines_use_only_declared_components() -> None:
    config = yaml.safe_load((FOLDER / "otel-collector.yaml").read_text())
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces", "metrics", "logs"}
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline[kind]) <= set(config[kind]), f"{name}.{kind}"
        assert pipeline["processors"][0] == "memory_limiter" and pipeline["processors"][-1] == "batch"
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]
    assert scrape["static_configs"][0]["targets"] == ["localhost:15020"]


def test_every_alert_has_a_runbook_entry() -> None:
    readme = (FOLDER / "README.md").read_text()
    headings = {
        line.removeprefix("### ").strip().lower() for line in readme.splitlines() if line.startswith("### ")
    }
    for group in yaml.safe_load((FOLDER / "alerts.yaml").read_text())["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"]["runbook"].split("#", 1)[1].split(":", 1)[0]
            assert anchor == rule["alert"].lower()
            assert anchor in headings, rule["alert"]


def test_dashboard_panels_are_well_formed() -> None:
    import json

    dashboard = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])
    names = {v["name"] for v in dashboard["templating"]["list"]}
    assert names == {"datasource", "model", "route", "backend"}
