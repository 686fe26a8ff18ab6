"""Canary analysis from the proxy's own measurements (pure: the caller passes ``now``).

Each version of a model under rollout keeps a bounded sliding window of its finished requests (time,
seconds, failed or not). A check judges the canary's window against the thresholds: error rate (5xx and
proxy errors over all answered requests) and p99 latency. Too few samples is *inconclusive*, never a pass
or a failure: with little traffic, a p99 means nothing (the trap Argo and Flagger users keep hitting).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

#: most samples a window keeps (the newest); beyond it the window is effectively shorter than configured
WINDOW_CAPACITY = 20_000


@dataclass(frozen=True, slots=True)
class AnalysisSpec:
    max_error_rate: float = 0.01
    max_p99: float = 0.5
    min_samples: int = 50
    interval: float = 30.0
    window: float = 60.0
    failure_limit: int = 0
    #: comparisons with the stable version's window (Spinnaker's practice: judge against a baseline
    #: measured at the same time); ``None`` turns each off
    max_error_rate_increase: float | None = None
    max_p99_ratio: float | None = None

    @property
    def compares(self) -> bool:
        return self.max_error_rate_increase is not None or self.max_p99_ratio is not None


@dataclass(frozen=True, slots=True)
class WindowStats:
    samples: int
    errors: int
    #: seconds; ``None`` without samples
    p99: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.samples if self.samples else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "errors": self.errors,
            "errorRate": round(self.error_rate, 6),
            "p99Ms": None if self.p99 is None else round(self.p99 * 1000, 3),
        }


def is_failure(status: int) -> bool:
    """A 5xx, or a request the proxy failed before any status was set; 4xx is the client's doing."""
    return status >= 500 or status == 0


class SampleWindow:
    """Finished requests of one version within the last ``window`` seconds (at most ``capacity``)."""

    __slots__ = ("_samples", "window")

    def __init__(self, window: float, capacity: int = WINDOW_CAPACITY) -> None:
        self.window = window
        self._samples: deque[tuple[float, float, bool]] = deque(maxlen=capacity)

    def add(self, now: float, seconds: float, failed: bool) -> None:
        self._samples.append((now, seconds, failed))

    def clear(self) -> None:
        self._samples.clear()

    def stats(self, now: float) -> WindowStats:
        samples = self._samples
        horizon = now - self.window
        while samples and samples[0][0] < horizon:
            samples.popleft()
        if not samples:
            return WindowStats(0, 0, None)
        durations = sorted(seconds for _, seconds, _ in samples)
        errors = sum(1 for _, _, failed in samples if failed)
        return WindowStats(len(durations), errors, percentile(durations, 0.99))


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


class Outcome(enum.StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str
    #: what failed, a bounded metric label: ``error_rate`` | ``p99_latency`` | ``error_rate_increase`` |
    #: ``p99_ratio`` (empty unless failed)
    check: str = ""
    stats: WindowStats | None = None


def judge(
    spec: AnalysisSpec, version: str, stats: WindowStats, baseline: tuple[str, WindowStats] | None = None
) -> Verdict:
    """The verdict on the canary ``version`` from its window ``stats``: limits first (error rate, then
    p99), then, when configured, the comparison with the stable ``baseline`` (version, its stats)."""
    window = _seconds(spec.window)
    if stats.samples < spec.min_samples:
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"not enough traffic: canary {version!r} has {stats.samples} of the {spec.min_samples} samples "
            f"needed in the last {window}",
            stats=stats,
        )
    measured = f"{stats.errors}/{stats.samples} failed, p99 {_ms(stats.p99 or 0.0)}"
    if stats.error_rate > spec.max_error_rate:
        return Verdict(
            Outcome.FAILED,
            f"error rate {stats.error_rate:.2%} of canary {version!r} is above the limit "
            f"{spec.max_error_rate:.2%} ({measured} in the last {window})",
            "error_rate",
            stats,
        )
    if stats.p99 is not None and stats.p99 > spec.max_p99:
        return Verdict(
            Outcome.FAILED,
            f"p99 latency {_ms(stats.p99)} of canary {version!r} is above the limit {_ms(spec.max_p99)} "
            f"({measured} in the last {window})",
            "p99_latency",
            stats,
        )
    if baseline is not None and spec.compares:
        compared = _compare(spec, version, stats, baseline, window)
        if compared is not None:
            return compared
        name, base = baseline
        measured += f"; stable {name!r}: {base.error_rate:.2%} failed, p99 {_ms(base.p99 or 0.0)}"
    return Verdict(
        Outcome.PASSED, f"canary {version!r} healthy: {measured} in the last {window}", stats=stats
    )


def _compare(
    spec: AnalysisSpec, version: str, stats: WindowStats, baseline: tuple[str, WindowStats], window: str
) -> Verdict | None:
    name, base = baseline
    if base.samples < spec.min_samples:
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"not enough traffic to compare: stable {name!r} has {base.samples} of the {spec.min_samples} "
            f"samples needed in the last {window}",
            stats=stats,
        )
    increase, allowed = stats.error_rate - base.error_rate, spec.max_error_rate_increase
    if allowed is not None and increase > allowed:
        return Verdict(
            Outcome.FAILED,
            f"error rate {stats.error_rate:.2%} of canary {version!r} is {increase:.2%} above "
            f"stable {name!r}'s {base.error_rate:.2%}, more than the allowed {allowed:.2%} "
            f"(in the last {window})",
            "error_rate_increase",
            stats,
        )
    if spec.max_p99_ratio is not None and stats.p99 is not None and base.p99:
        ratio = stats.p99 / base.p99
        if ratio > spec.max_p99_ratio:
            return Verdict(
                Outcome.FAILED,
                f"p99 latency {_ms(stats.p99)} of canary {version!r} is {ratio:.2f}x stable {name!r}'s "
                f"{_ms(base.p99)}, above the allowed {spec.max_p99_ratio:g}x (in the last {window})",
                "p99_ratio",
                stats,
            )
    return None


def _ms(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f}s"
    return f"{seconds * 1000:.1f}ms" if seconds < 0.01 else f"{seconds * 1000:.0f}ms"


def _seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
