from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from inferlane.sim.faults import NO_FAULT, FaultControl, FaultSettings, parse_header, plan_faults
from inferlane.sim.spec import FleetSpec


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("status=503", {"status": 503}),
        ("latency=200ms, ttft=1s", {"latency": 0.2, "ttft": 1.0}),
        ("hang", {"hang": 600.0}),
        ("hang=2s", {"hang": 2.0}),
        ("reset", {"reset": True}),
        ("stall-mid-stream=5s; after=3", {"stall": 5.0, "after_tokens": 3}),
        ("reset-mid-stream", {"reset_mid_stream": True}),
        ("oom", {"oom": True}),
        ("dead", {"dead": True}),
    ],
)
def test_header_directives(header: str, expected: dict[str, object]) -> None:
    assert parse_header(header) == expected


@pytest.mark.parametrize("header", ["status=200", "status=abc", "latency=soon", "explode"])
def test_bad_header_names_the_directive(header: str) -> None:
    with pytest.raises(ValueError, match="invalid x-sim-fault directive"):
        parse_header(header)


def test_no_settings_no_header_is_no_fault() -> None:
    assert plan_faults(FaultSettings(), None, random.Random(0)) is NO_FAULT


def test_error_rate_draws_from_the_statuses() -> None:
    settings = FaultSettings(error_rate=0.5, error_statuses=[502, 503])
    rng = random.Random(1)
    statuses = [plan_faults(settings, None, rng).status for _ in range(400)]
    assert 150 < statuses.count(None) < 250
    assert {s for s in statuses if s is not None} == {502, 503}


def test_control_merges_camel_and_snake_keys_and_validates() -> None:
    control = FaultControl()
    control.merge({"errorRate": 0.25})
    control.set(latency="50ms")
    assert control.settings.error_rate == 0.25 and control.settings.latency == 0.05
    with pytest.raises(ValidationError):
        control.merge({"errorRate": 2})
    with pytest.raises(ValidationError):
        control.merge({"bogus": 1})
    control.clear()
    assert control.settings == FaultSettings()


def test_fleet_yaml_keys_are_camel_case_with_durations() -> None:
    spec = FleetSpec.from_dict({
        "timeScale": 0.1,
        "models": [{
            "name": "m", "replicas": 2, "preset": "h100x4-70b",
            "timing": {"prefillOverhead": "50ms", "jitter": 0.1},
            "engine": {"numGpuBlocks": 4096, "maxModelLen": 4096},
            "faults": {"errorRate": 0.1, "errorStatuses": [503]},
            "startupDelay": {"refuse": "1s", "loading": "2s"},
        }],
    })  # fmt: skip
    model = spec.models[0]
    timing = model.timing_model()
    assert timing.prefill_overhead == 0.05 and timing.decode_base == 0.025  # override + preset
    assert model.engine_config().num_gpu_blocks == 4096 and model.startup_delay.loading == 2.0


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"name": "m", "timing": {"prefilOverhead": "1ms"}}, "models.0.timing.prefilOverhead"),
        ({"name": "m", "preset": "h200-9000b"}, "unknown preset"),
        ({"name": "m", "engine": {"numGpuBlocks": 2, "maxModelLen": 4096}}, "must hold one maxModelLen"),
        ({"name": "m", "timing": {"decodeBase": "fast"}}, "invalid duration"),
    ],
)
def test_bad_fleet_files_name_the_problem(entry: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError, match=where.replace(".", r"\.")):
        FleetSpec.from_dict({"models": [entry]})


def test_quick_form_accepts_overrides() -> None:
    spec = FleetSpec.quick("m", replicas=3, port=9000, time_scale=0, preset="zero", max_loras=2)
    assert spec.models[0].replicas == 3 and spec.models[0].max_loras == 2 and spec.time_scale == 0
