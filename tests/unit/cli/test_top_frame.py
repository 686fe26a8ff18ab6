"""``inferlane top`` frames drawn from /admin/status documents (no terminal, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from inferlane.cli.top_frame import render, sparkline

RED = "\x1b[31m"


def status(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": "0.1.0",
        "time": 1_700_000_000.0,
        "uptime_s": 42.0,
        "generation": 3,
        "ready": True,
        "draining": False,
        "routes": [{"name": "chat", "match": "/v1/chat/completions", "models": ["qwen*"], "backend": "qwen"}],
        "splits": [],
        "rollouts": None,
        "batching": None,
        "backends": {
            "qwen": [
                {"endpoint": "10.0.0.1:8000", "healthy": True, "ejected": False, "breaker": "closed",
                 "in_flight": 2, "requests": 10},
                {"endpoint": "10.0.0.2:8000", "healthy": False, "ejected": False, "breaker": "open",
                 "in_flight": 0, "requests": 5, "queue": 7, "kv_usage": 0.95, "signal_age_s": 12.5},
            ]
        },
        "errors": [],
        "traffic": {"total_requests": 15, "total_errors": 1, "samples": []},
    }  # fmt: skip
    doc.update(overrides)
    return doc


def line_with(frame: str, text: str) -> str:
    return next(line for line in frame.splitlines() if text in line)


def test_endpoints_show_health_breaker_and_load_signals() -> None:
    frame = render(status())
    assert line_with(frame, "10.0.0.1:8000").split() == ["qwen", "10.0.0.1:8000", "healthy", "closed", "2",
                                                         "–", "–", "–", "10"]  # fmt: skip
    assert line_with(frame, "10.0.0.2:8000").split() == ["qwen", "10.0.0.2:8000", "unhealthy", "open", "0",
                                                         "7", "95%", "12.5s", "5"]  # fmt: skip
    assert "generation 3 · ready · up 42s · 15 requests · 1 errors" in frame


def test_colour_marks_trouble_and_plain_mode_has_no_escape_codes() -> None:
    assert "\x1b[" not in render(status())
    coloured = render(status(), color=True)
    assert f"{RED}unhealthy" in coloured and f"{RED}open" in coloured and f"{RED}95%" in coloured


def test_missing_sections_say_none() -> None:
    frame = render(status(backends={}, routes=[]))
    for heading in ("ENDPOINTS", "ROUTES", "SPLITS", "ROLLOUTS", "BATCHING", "RECENT ERRORS"):
        after = frame.split(heading, 1)[1].splitlines()[1]
        assert after == "  none", heading
    assert line_with(render(status(draining=True)), "Inferlane").count("draining") == 1


@pytest.mark.parametrize(
    "rollouts",
    [
        [{"model": "qwen", "phase": "Progressing", "weights": {"stable": 90, "canary": 10}}],
        {"qwen": {"phase": "Progressing", "weights": {"stable": 90, "canary": 10}}},
    ],
)
def test_rollouts_as_list_or_mapping(rollouts: Any) -> None:
    frame = render(status(rollouts=rollouts))
    assert line_with(frame, "Progressing").split() == ["qwen", "Progressing", "stable=90", "canary=10", "–"]


def test_rollout_detail_shows_step_pause_and_message() -> None:
    rollout = {"model": "qwen", "phase": "Paused", "step": 2, "steps": 4, "paused": True, "message": "held"}
    frame = render(status(rollouts=[rollout]))
    assert line_with(frame, "Paused").endswith("step 2/4 · paused · held")


def test_splits_batching_and_errors() -> None:
    frame = render(
        status(
            splits=[{"model": "qwen", "weights": {"v1": 70, "v2": 30}, "source": "live"}],
            batching={"bge/embeddings": {"queued": 3, "batches": 12}},
            errors=[{"at": 1_700_000_000.0, "status": 503, "error_kind": "circuit_open", "route": "chat",
                     "backend": "qwen", "endpoint": "10.0.0.2:8000", "seconds": 0.0123}],
        )
    )  # fmt: skip
    assert line_with(frame, "v1=70").split() == ["qwen", "v1=70", "v2=30", "live"]
    assert line_with(frame, "bge/embeddings").split() == ["bge/embeddings", "queued=3", "batches=12"]
    assert line_with(render(status(batching={"queued": 1})), "queued=1").split() == ["all", "queued=1"]
    assert line_with(frame, "circuit_open").split()[1:] == ["503", "circuit_open", "chat", "qwen",
                                                            "10.0.0.2:8000", "12.3", "ms"]  # fmt: skip


def test_long_lines_are_clipped_to_the_width() -> None:
    frame = render(
        status(routes=[{"name": "r" * 200, "match": "/x", "models": [], "backend": "b"}]), width=60
    )
    assert max(len(line) for line in frame.splitlines()) <= 60
    assert line_with(frame, "rrrr").endswith("…")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0, 0], "▁▁▁"),
        ([0, 4, 8], "▁▄█"),
        ([None, 1, None], " █ "),
        ([], ""),
    ],
)
def test_sparkline(values: list[float | None], expected: str) -> None:
    assert sparkline(values) == expected


def test_sparkline_keeps_the_most_recent_points() -> None:
    assert sparkline([8.0] + [0.0] * 50, points=10) == "▁" * 10


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ({"healthy": True}, "healthy"),
        ({"healthy": False, "ejected": True}, "unhealthy"),
        ({"healthy": True, "ejected": True}, "ejected"),
        ({"healthy": True, "sleeping": True}, "sleeping"),
    ],
)
def test_health_column(endpoint: dict[str, Any], shown: str) -> None:
    frame = render(status(backends={"b": [{"endpoint": "e:1", **endpoint}]}))
    assert line_with(frame, "e:1").split()[2] == shown
