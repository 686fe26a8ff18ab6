"""One frame of ``inferlane top``: the ``/admin/status`` document drawn as plain text with optional ANSI
colour. Pure: a dict in, a string out (tested without a terminal)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

DASH = "–"
BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 40
COLORS = {"ok": "32", "warn": "33", "bad": "31", "dim": "2", "head": "1"}


class Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, tone: str) -> str:
        if not self.color or tone not in COLORS:
            return text
        return f"\x1b[{COLORS[tone]}m{text}\x1b[0m"


def sparkline(values: Sequence[float | None], points: int = SPARK_POINTS) -> str:
    recent = list(values)[-points:]
    known = [v for v in recent if v is not None]
    top = max(known, default=0.0)
    if top <= 0:
        return BLOCKS[0] * len(recent)
    return "".join(" " if v is None else BLOCKS[min(7, int(v / top * 7.999))] for v in recent)


def show(value: Any, digits: int | None = None) -> str:
    if value is None or value == "":
        return DASH
    if digits is not None and isinstance(value, int | float):
        return f"{value:.{digits}f}"
    return str(value)


def table(head: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]], paint: Painter) -> list[str]:
    """Rows of (text, tone) cells, columns padded to their widest cell (colour codes added after)."""
    widths = [len(h) for h in head]
    for row in rows:
        for i, (text, _) in enumerate(row):
            widths[i] = max(widths[i], len(text))
    lines = [paint("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip(), "dim")]
    for row in rows:
        cells = [paint(text.ljust(w), tone) for (text, tone), w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _health(ep: dict[str, Any]) -> tuple[str, str]:
    if ep.get("healthy") is False:
        return "unhealthy", "bad"
    if ep.get("ejected"):
        return "ejected", "warn"
    if ep.get("sleeping"):
        return "sleeping", "warn"
    return "healthy", "ok"


def _breaker(state: Any) -> tuple[str, str]:
    tone = {"open": "bad", "half_open": "warn", "closed": "ok"}.get(str(state), "dim")
    return show(state), tone


def _percent(value: Any) -> tuple[str, str]:
    if not isinstance(value, int | float):
        return DASH, ""
    return f"{value * 100:.0f}%", "bad" if value > 0.9 else ""


def _age(value: Any) -> tuple[str, str]:
    if not isinstance(value, int | float):
        return DASH, ""
    return f"{value:.1f}s", "bad" if value > 10 else "warn" if value > 3 else ""


def endpoint_rows(backends: dict[str, list[dict[str, Any]]]) -> list[list[tuple[str, str]]]:
    rows = []
    for backend, endpoints in backends.items():
        for ep in endpoints:
            rows.append(
                [
                    (backend, ""),
                    (show(ep.get("endpoint")), ""),
                    _health(ep),
                    _breaker(ep.get("breaker")),
                    (show(ep.get("in_flight")), ""),
                    (show(ep.get("queue")), ""),
                    _percent(ep.get("kv_usage")),
                    _age(ep.get("signal_age_s")),
                    (show(ep.get("requests")), ""),
                ]
            )
    return rows


def _flat(obj: Any) -> str:
    if isinstance(obj, dict):
        return "  ".join(f"{k}={show(v)}" for k, v in obj.items() if not isinstance(v, dict | list))
    return show(obj)


def _rollouts(rollouts: Any) -> list[dict[str, Any]]:
    if isinstance(rollouts, dict):
        return [
            {"model": model, **r} if isinstance(r, dict) else {"model": model}
            for model, r in rollouts.items()
        ]
    return [r for r in rollouts or () if isinstance(r, dict)]


Rows = list[list[tuple[str, str]]]


def render(status: dict[str, Any], *, width: int = 120, color: bool = False, now: float | None = None) -> str:
    paint = Painter(color)
    lines = [*_header(status, paint, now), ""]
    sections: list[tuple[str, list[str], Rows]] = [
        ("ENDPOINTS", ["backend", "endpoint", "health", "breaker", "in-flight", "queue", "kv", "age",
                       "requests"], endpoint_rows(status.get("backends") or {})),
        ("ROUTES", ["route", "match", "models", "backend"], _route_rows(status)),
        ("SPLITS", ["model", "weights", "source"], _split_rows(status)),
        ("ROLLOUTS", ["model", "phase", "weights", "detail"], _rollout_rows(status)),
        ("BATCHING", ["model", "stats"], _batching_rows(status.get("batching"))),
        ("RECENT ERRORS", ["time", "status", "kind", "route", "backend", "endpoint", "took"],
         _error_rows(status)),
    ]  # fmt: skip
    for title, head, rows in sections:
        lines += ["", paint(title, "head")]
        lines += table(head, rows, paint) if rows else ["  none"]
    return "\n".join(_clip(line, width) for line in lines) + "\n"


def _header(status: dict[str, Any], paint: Painter, now: float | None) -> list[str]:
    traffic = status.get("traffic") or {}
    state = "draining" if status.get("draining") else "ready" if status.get("ready") else "not ready"
    clock = time.strftime("%H:%M:%S", time.localtime(now if now is not None else status.get("time") or 0))
    lines = [
        paint(f"Inferlane {show(status.get('version'))}", "head")
        + f" · generation {show(status.get('generation'))} · {state} · up {show(status.get('uptime_s'), 0)}s"
        + f" · {show(traffic.get('total_requests'))} requests · {show(traffic.get('total_errors'))} errors"
        + f" · {clock}",
        "",
    ]
    samples = traffic.get("samples") or []
    for label, key, unit in (("req/s", "requests", ""), ("p95  ", "p95_ms", " ms"), ("err/s", "errors", "")):
        values = [s.get(key) for s in samples]
        last = next((v for v in reversed(values) if v is not None), None)
        tone = "bad" if key == "errors" and last else ""
        lines.append(
            f"{label} {sparkline(values)}  now {paint(show(last, 1 if unit else None) + unit, tone)}"
        )
    return lines


def _route_rows(status: dict[str, Any]) -> Rows:
    return [
        [(show(r.get("name")), ""), (show(r.get("match")), ""),
         (", ".join(r.get("models") or []) or DASH, ""), (show(r.get("backend")), "")]
        for r in status.get("routes") or []
    ]  # fmt: skip


def _split_rows(status: dict[str, Any]) -> Rows:
    return [
        [(show(s.get("model")), ""), (_flat(s.get("weights") or {}), ""), (show(s.get("source")), "dim")]
        for s in status.get("splits") or []
    ]


def _rollout_rows(status: dict[str, Any]) -> Rows:
    rows = []
    for r in _rollouts(status.get("rollouts")):
        detail = []
        if r.get("step") is not None:
            detail.append(f"step {r['step']}/{r['steps']}" if r.get("steps") else f"step {r['step']}")
        if r.get("paused"):
            detail.append("paused")
        if r.get("message") or r.get("reason"):
            detail.append(str(r.get("message") or r.get("reason")))
        rows.append(
            [(show(r.get("model") or r.get("name")), ""), (show(r.get("phase")), ""),
             (_flat(r.get("weights")), ""), (" · ".join(detail) or DASH, "dim")]
        )  # fmt: skip
    return rows


def _batching_rows(batching: Any) -> Rows:
    if not batching:
        return []
    if isinstance(batching, dict) and all(isinstance(v, dict) for v in batching.values()):
        return [[(str(key), ""), (_flat(stats), "")] for key, stats in batching.items()]
    return [[("all", ""), (_flat(batching), "")]]


def _error_rows(status: dict[str, Any]) -> Rows:
    return [
        [(time.strftime("%H:%M:%S", time.localtime(e.get("at") or 0)), ""),
         (show(e.get("status")), "bad" if (e.get("status") or 0) >= 500 else "warn"),
         (show(e.get("error_kind")), ""), (show(e.get("route")), ""), (show(e.get("backend")), ""),
         (show(e.get("endpoint")), ""), (f"{(e.get('seconds') or 0) * 1000:.1f} ms", "")]
        for e in (status.get("errors") or [])[:10]
    ]  # fmt: skip


def _clip(line: str, width: int) -> str:
    """Cut a line to the terminal width (lines with colour codes are left whole: cutting could split one)."""
    if "\x1b[" in line or len(line) <= width:
        return line
    return line[: max(1, width - 1)] + "…"
