"""The ``rollouts`` section: the seed's defaults, Argo's step shapes, and clear errors."""

from __future__ import annotations

import pytest

from inferlane.config.load import parse_config
from inferlane.config.problems import ConfigError, format_report
from inferlane.rollout.controller import spec_of
from inferlane.rollout.notes import rollout_notes
from inferlane.rollout.state import Step

REGISTRY = """
backends: [{name: b, endpoints: ["http://127.0.0.1:9"]}]
models:
  - name: chat
    aliases: [gpt-4o]
    versions: [{version: v1, backend: b}, {version: v2, backend: b}, {version: "1"}, {version: "2.5"}]
  - {name: m, versions: [{version: a}, {version: b}, {version: c}]}
"""


def test_defaults_are_the_seeds_argo_rollout_and_analysis_template() -> None:
    text = REGISTRY + "rollouts: [{model: chat, stableVersion: v1, canaryVersion: v2}]"
    (rollout,) = parse_config(text).rollouts
    spec = spec_of(rollout)
    assert spec.steps == (
        Step(weight=10),
        Step(pause=300.0),
        Step(weight=25),
        Step(pause=600.0),
        Step(weight=50),
        Step(pause=900.0),
        Step(weight=75),
        Step(pause=600.0),
        Step(weight=100),
    )
    a = spec.analysis
    assert (a.max_error_rate, a.max_p99, a.interval, a.window, a.failure_limit) == (0.01, 0.5, 30.0, 60.0, 0)


def test_step_shapes_and_numeric_versions() -> None:
    text = (
        REGISTRY
        + """
rollouts:
  - model: chat
    stableVersion: 1
    canaryVersion: 2.5
    steps: [{setWeight: 5}, {pause: {duration: 1m30s}}, {pause: {}}, {setWeight: 100}]
    analysis: {maxP99Latency: 2s, minSamples: 200, interval: 10s, window: 5m, failureLimit: 2}
"""
    )
    (rollout,) = parse_config(text).rollouts
    spec = spec_of(rollout)
    assert (spec.stable, spec.canary) == ("1", "2.5")
    assert spec.steps == (Step(weight=5), Step(pause=90.0), Step(), Step(weight=100))
    assert (spec.analysis.max_p99, spec.analysis.min_samples, spec.analysis.window) == (2.0, 200, 300.0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b, steps: [{setWeight: 10, pause: {}}]}]",
            "rollouts[0].steps[0]: a step is either 'setWeight: <0-100>' or 'pause",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b, steps: [{setWeight: 120}]}]",
            "rollouts[0].steps[0].setWeight: must be less than or equal to 100",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: a}]",
            "stableVersion and canaryVersion are both 'a'",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b, analysis: {interval: 0s}}]",
            "rollouts[0].analysis.interval: must be greater than 0",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b, analysis: {maxErrorRate: 5}}]",
            "rollouts[0].analysis.maxErrorRate",
        ),
        ("rollouts: [{model: m, stableVersion: a}]", "rollouts[0].canaryVersion: required key missing"),
        (
            "rollouts: [{model: gpt-4o, stableVersion: v1, canaryVersion: v2}]",
            "rollouts[0].model: 'gpt-4o' is an alias; use the model's name 'chat'",
        ),
        (
            "rollouts: [{model: chatt, stableVersion: v1, canaryVersion: v2}]",
            "rollouts[0].model: unknown model 'chatt' (models: chat, m)",
        ),
        (
            "rollouts: [{model: chat, stableVersion: v1, canaryVersion: v9}]",
            "rollouts[0].canaryVersion: model 'chat' has no version 'v9' (versions: v1, v2, 1, 2.5)",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b, stepz: []}]",
            "rollouts[0].stepz: unknown key 'stepz' (did you mean 'steps'?)",
        ),
        (
            "rollouts: [{model: m, stableVersion: a, canaryVersion: b},"
            " {model: m, stableVersion: a, canaryVersion: c}]",
            "more than one rollout for model(s) m",
        ),
    ],
)
def test_problems_name_the_key(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(REGISTRY + text)
    assert problem in format_report(raised.value)


def test_a_rollout_needs_the_registry() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("rollouts: [{model: chat, stableVersion: v1, canaryVersion: v2}]")
    assert (
        "rollouts[0].model: no model registry: declare 'chat' and its versions under 'models'"
        in format_report(raised.value)
    )


def test_check_config_notes_say_how_long_a_rollout_takes() -> None:
    text = (
        REGISTRY
        + """
rollouts:
  - {model: chat, stableVersion: v1, canaryVersion: v2}
  - model: m
    stableVersion: a
    canaryVersion: b
    steps: [{setWeight: 5}, {pause: {}}]
    analysis: {interval: 10s, failureLimit: 2}
"""
    )
    assert rollout_notes(parse_config(text).rollouts) == [
        "rollout of chat: reaches 100% after at least 40m of pauses; a failing canary is rolled back within "
        "about 30s once it has analysis.minSamples requests in the window",
        "rollout of m: reaches 100% only after an operator's promote (a pause without duration); a failing "
        "canary is rolled back within about 30s once it has analysis.minSamples requests in the window",
    ]
