"""The rollout controller: the thin shell around the pure state machine.

Owned by the App, so rollout state survives config reloads. It is fed every finished request (an
``Edge.finished_hooks`` observer), ticks on a timer (``run``, an App-owned task), writes the weights the
state machine chooses into ``WeightOverrides`` (which the split stage reads), exports the rollout metrics
and logs every transition with its reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inferlane.config.rollouts import RolloutConfig
from inferlane.observability.metrics import ProxyMetrics
from inferlane.pipeline.context import RequestContext
from inferlane.rollout import state as machine
from inferlane.rollout.analysis import AnalysisSpec, SampleWindow, is_failure, judge
from inferlane.rollout.state import Phase, RolloutSpec, RolloutState, Step
from inferlane.stages.split.assign import FIRST_CHOICE_KEY, canonical_model
from inferlane.stages.split.weights import WeightOverrides

log = logging.getLogger("inferlane.rollout")

#: status of a client that hung up (server.edge.CLIENT_CLOSED): neither a success nor the canary's failure
_CLIENT_CLOSED = 499
#: the controller wakes at least this often (pause ends and checks are seen within a tick)
MAX_TICK = 1.0
MIN_TICK = 0.02


def spec_of(config: RolloutConfig) -> RolloutSpec:
    steps = tuple(
        Step(weight=s.set_weight)
        if s.set_weight is not None
        else Step(pause=s.pause.duration if s.pause else None)
        for s in config.steps
    )
    a = config.analysis
    analysis = AnalysisSpec(
        max_error_rate=a.max_error_rate,
        max_p99=a.max_p99_latency,
        min_samples=a.min_samples,
        interval=a.interval,
        window=a.window,
        failure_limit=a.failure_limit,
        max_error_rate_increase=a.max_error_rate_increase,
        max_p99_ratio=a.max_p99_ratio,
    )
    return RolloutSpec(config.model, config.stable_version, config.canary_version, steps, analysis)


@dataclass
class Tracked:
    spec: RolloutSpec
    state: RolloutState
    windows: dict[str, SampleWindow] = field(default_factory=dict)
    applied: dict[str, int] | None = None

    def reset_windows(self) -> None:
        self.windows = {
            version: SampleWindow(self.spec.analysis.window)
            for version in (self.spec.stable, self.spec.canary)
        }


class RolloutController:
    def __init__(self, overrides: WeightOverrides, metrics: ProxyMetrics, clock: Callable[[], float]) -> None:
        self.overrides = overrides
        self.metrics = metrics
        self.clock = clock
        self.rollouts: dict[str, Tracked] = {}

    # --- configuration -----------------------------------------------------------------------------

    def configure(self, configs: Sequence[RolloutConfig]) -> None:
        """Start new rollouts, keep the state of unchanged ones, drop removed ones (clearing weights)."""
        now = self.clock()
        wanted = {config.model: spec_of(config) for config in configs}
        for model in list(self.rollouts):
            if model not in wanted:
                del self.rollouts[model]
                self.overrides.clear(model)
                self.metrics.forget_rollout(model)
                log.info("rollout removed from config; weights back to config", extra={"model": model})
        for model, spec in wanted.items():
            tracked = self.rollouts.get(model)
            if tracked is None:
                tracked = Tracked(spec, machine.begin(spec, now))
                tracked.reset_windows()
                self.rollouts[model] = tracked
                self._publish(tracked, None)
                continue
            old_spec, old_state = tracked.spec, tracked.state
            tracked.spec = spec
            tracked.state = machine.carry_over(old_spec, spec, old_state, now)
            if (old_spec.stable, old_spec.canary) != (spec.stable, spec.canary):
                tracked.reset_windows()
            for window in tracked.windows.values():
                window.window = spec.analysis.window
            self._publish(tracked, old_state)

    # --- measurements (hot path: every finished request) ---------------------------------------------

    def observe(self, ctx: RequestContext | None, status: int, error_kind: str, seconds: float) -> None:
        if not self.rollouts or ctx is None or status == _CLIENT_CLOSED:
            return
        first = ctx.extra.get(FIRST_CHOICE_KEY)
        if first is not None:  # a fallback model answered: the version chosen first failed
            self._record(first[0], first[1], seconds, True)
        model = canonical_model(ctx)
        if model is not None and ctx.version is not None:
            self._record(model, ctx.version, seconds, is_failure(status))

    def _record(self, model: str, version: str | None, seconds: float, failed: bool) -> None:
        tracked = self.rollouts.get(model)
        window = tracked.windows.get(version) if tracked is not None and version is not None else None
        if window is not None:
            window.add(self.clock(), seconds, failed)

    # --- time ----------------------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock()
        for tracked in self.rollouts.values():
            spec, old = tracked.spec, tracked.state
            verdict = None
            if machine.analysis_due(spec, old, now):
                windows = tracked.windows
                baseline = (spec.stable, windows[spec.stable].stats(now)) if spec.analysis.compares else None
                verdict = judge(spec.analysis, spec.canary, windows[spec.canary].stats(now), baseline)
            tracked.state = machine.tick(spec, old, now, verdict)
            self._publish(tracked, old)

    def period(self) -> float:
        intervals = [t.spec.analysis.interval for t in self.rollouts.values()]
        return max(MIN_TICK, min([MAX_TICK, *intervals]))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period())
            try:
                self.tick()
            except Exception:  # a bug here must not stop every rollout for the life of the process
                log.exception("rollout check failed; retrying at the next tick")

    # --- operator commands ---------------------------------------------------------------------------

    def command(self, model: str, action: str, full: bool = False) -> dict[str, Any]:
        """Apply ``promote`` | ``pause`` | ``resume`` | ``abort``; raises KeyError for an unknown rollout
        and ``CommandError`` when the phase does not allow it."""
        tracked = self.rollouts[model]
        now, old = self.clock(), tracked.state
        if action == "promote":
            new = machine.promote(tracked.spec, old, now, full)
        elif action == "pause":
            new = machine.pause(tracked.spec, old, now)
        elif action == "resume":
            new = machine.resume(tracked.spec, old, now)
        elif action == "abort":
            new = machine.abort(tracked.spec, old, now)
        else:
            raise ValueError(f"unknown rollout action {action!r}")
        if new.attempt != old.attempt:
            tracked.reset_windows()
        tracked.state = new
        self._publish(tracked, old)
        return self.describe(model)

    def active(self, model: str) -> bool:
        """Whether a running rollout owns the model's weights (then manual weight changes are refused)."""
        tracked = self.rollouts.get(model)
        return tracked is not None and tracked.state.phase not in machine.SETTLED

    # --- output --------------------------------------------------------------------------------------

    def describe(self, model: str, measurements: bool = True) -> dict[str, Any]:
        """The rollout's status (admin API, CLI, status page); ``measurements`` adds each version's window
        numbers (a sort of each window: leave them out where it is polled often)."""
        tracked = self.rollouts[model]
        spec, state, now = tracked.spec, tracked.state, self.clock()
        verdict = state.verdict
        to_complete, to_roll_back = machine.time_bounds(spec)
        analysis: dict[str, Any] = {
            "lastResult": verdict.outcome.value if verdict else None,
            "lastReason": verdict.reason if verdict else None,
            "secondsAgo": None if state.verdict_at is None else round(now - state.verdict_at, 3),
            "failures": state.failures,
        }
        if measurements:
            analysis["versions"] = {v: w.stats(now).as_dict() for v, w in tracked.windows.items()}
        return {
            "model": model,
            "stableVersion": spec.stable,
            "canaryVersion": spec.canary,
            "phase": state.phase.value,
            "message": state.message,
            #: 1-based as in the messages ("step 2/9"); ``stepIndex`` is Argo's 0-based currentStepIndex
            "step": min(state.step + 1, len(spec.steps)),
            "stepIndex": state.step,
            "steps": len(spec.steps),
            "weights": spec.weights(state.weight),
            "paused": state.held,
            "attempt": state.attempt,
            "rollbackReason": state.rollback or None,
            "analysis": analysis,
            "bounds": {"minSecondsToComplete": to_complete, "maxSecondsToRollBack": to_roll_back},
        }

    def describe_all(self, measurements: bool = True) -> list[dict[str, Any]]:
        return [self.describe(model, measurements) for model in sorted(self.rollouts)]

    def _publish(self, tracked: Tracked, old: RolloutState | None) -> None:
        """Weights into the overrides (only when they change), metrics, and a log line per transition."""
        spec, new = tracked.spec, tracked.state
        weights = spec.weights(new.weight)
        if weights != tracked.applied:
            self.overrides.set(spec.model, weights)
            tracked.applied = weights
        self.metrics.show_rollout(spec.model, weights, new.step, new.phase.value)
        if old is not None and (old.phase, old.step, old.weight) == (new.phase, new.step, new.weight):
            return
        if new.phase in machine.ROLLED_BACK and (old is None or old.phase not in machine.ROLLED_BACK):
            self.metrics.rollout_rollbacks.labels(spec.model, new.rollback).inc()
        level = logging.WARNING if new.phase in (Phase.DEGRADED, Phase.INCONCLUSIVE) else logging.INFO
        log.log(
            level,
            "rollout of %s %s: %s",
            spec.model,
            new.phase.value,
            new.message,
            extra={
                "model": spec.model,
                "phase": new.phase.value,
                "previous_phase": old.phase.value if old else None,
                "step": new.step,
                "weights": weights,
                "reason": new.message,
            },
        )
