"""The rollout state machine (pure: every function takes ``now`` and returns a new state).

A rollout walks its steps: ``setWeight`` steps apply at once, a ``pause`` step holds the canary's weight
for a duration (or until promoted). Analysis runs every ``interval``; a timed pause ends only once a check
taken during it passed. A failed check (beyond ``failureLimit``) rolls back to 100% stable; too little
traffic is *Inconclusive*: the rollout stays paused and says why. When the steps run out the canary takes
100% and the rollout is *Healthy*.

Phases (Argo Rollouts' words): Progressing, Paused (until promoted or by an operator), Inconclusive (paused,
analysis could not decide), Degraded (rolled back by analysis), Healthy (complete), Aborted (by an operator).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from inferlane.rollout.analysis import AnalysisSpec, Outcome, Verdict


class Phase(enum.StrEnum):
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    INCONCLUSIVE = "Inconclusive"
    DEGRADED = "Degraded"
    HEALTHY = "Healthy"
    ABORTED = "Aborted"


#: phases in which nothing changes until an operator acts
SETTLED = frozenset({Phase.DEGRADED, Phase.HEALTHY, Phase.ABORTED})
ROLLED_BACK = frozenset({Phase.DEGRADED, Phase.ABORTED})


class CommandError(ValueError):
    """An operator command that does not apply to the rollout's phase (the admin API answers 409)."""


@dataclass(frozen=True, slots=True)
class Step:
    #: ``setWeight``: the canary's share in percent; ``None`` for a pause
    weight: int | None = None
    #: a pause's duration in seconds; ``None`` (with ``weight`` ``None``) pauses until promoted
    pause: float | None = None


@dataclass(frozen=True, slots=True)
class RolloutSpec:
    model: str
    stable: str
    canary: str
    steps: tuple[Step, ...]
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)

    def weights(self, canary_weight: int) -> dict[str, int]:
        return {self.stable: 100 - canary_weight, self.canary: canary_weight}


@dataclass(frozen=True, slots=True)
class RolloutState:
    phase: Phase
    #: index of the current step (Argo's ``currentStepIndex``); ``len(steps)`` once complete
    step: int
    #: the canary's weight in percent
    weight: int
    message: str
    #: when the current step (or the rollback) began
    step_since: float
    next_check: float
    #: consecutive failed checks
    failures: int = 0
    #: paused by an operator
    held: bool = False
    verdict: Verdict | None = None
    verdict_at: float | None = None
    #: 1 for the first run, +1 each time ``resume`` restarts a rolled-back rollout
    attempt: int = 1
    #: why it was rolled back: the failed check (``error_rate``, ``p99_latency``) or ``aborted``
    rollback: str = ""


def begin(spec: RolloutSpec, now: float, attempt: int = 1) -> RolloutState:
    start = RolloutState(
        Phase.PROGRESSING, 0, 0, "starting", now, now + spec.analysis.interval, attempt=attempt
    )
    return _enter(spec, start, now)


def analysis_due(spec: RolloutSpec, state: RolloutState, now: float) -> bool:
    """A check is due every ``interval``, and at once when a timed pause ends without a check of its own."""
    if state.phase in SETTLED:
        return False
    if now >= state.next_check:
        return True
    return _pause_over(spec, state, now) and not _checked_this_step(state)


def tick(spec: RolloutSpec, state: RolloutState, now: float, verdict: Verdict | None) -> RolloutState:
    """Advance with time and, when one was due, the analysis ``verdict``."""
    if state.phase in SETTLED:
        return state
    if verdict is not None:
        state = replace(state, verdict=verdict, verdict_at=now, next_check=now + spec.analysis.interval)
        if verdict.outcome is Outcome.FAILED:
            failures = state.failures + 1
            if failures > spec.analysis.failure_limit:
                return _roll_back(spec, state, now, Phase.DEGRADED, verdict.check, verdict.reason)
            state = replace(state, failures=failures)
        elif verdict.outcome is Outcome.PASSED:
            state = replace(state, failures=0)
    if not state.held and _pause_over(spec, state, now) and _passed_this_step(state):
        return _enter(spec, replace(state, step=state.step + 1), now)
    return _settle(spec, state, now)


def time_bounds(spec: RolloutSpec) -> tuple[float | None, float]:
    """(shortest time from start to 100%: the timed pauses, ``None`` when a pause waits for an operator;
    longest time from a canary failing with enough traffic to the rollback: one check per allowed failure)."""
    pauses = [step.pause for step in spec.steps if step.weight is None]
    to_complete = None if any(pause is None for pause in pauses) else sum(p or 0.0 for p in pauses)
    return to_complete, spec.analysis.interval * (spec.analysis.failure_limit + 1)


# --- operator commands ---------------------------------------------------------------------------


def promote(spec: RolloutSpec, state: RolloutState, now: float, full: bool = False) -> RolloutState:
    """Skip the current pause (and its analysis gate); ``full`` skips every remaining step."""
    _require_running(spec, state, "promote")
    state = replace(state, held=False)
    return _enter(spec, replace(state, step=len(spec.steps) if full else state.step + 1), now)


def pause(spec: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    _require_running(spec, state, "pause")
    return _settle(spec, replace(state, held=True), now)


def resume(spec: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    """Lift an operator's pause; continue past a pause-until-promoted; restart a rolled-back rollout."""
    if state.phase in ROLLED_BACK:
        return begin(spec, now, state.attempt + 1)
    _require_running(spec, state, "resume")
    if state.held:
        return tick(spec, replace(state, held=False), now, None)
    if spec.steps[state.step].pause is None:
        return promote(spec, state, now)
    raise CommandError(
        f"rollout of {spec.model} is not paused ({state.message}); 'promote' skips the current step"
    )


def abort(spec: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    """Send all traffic back to the stable version; ``resume`` starts over."""
    if state.phase in ROLLED_BACK:
        raise CommandError(f"rollout of {spec.model} is already rolled back ({state.message})")
    where = "after completing" if state.phase is Phase.HEALTHY else f"at {_where(spec, state)}"
    return _roll_back(spec, state, now, Phase.ABORTED, "aborted", f"aborted by an operator {where}")


def carry_over(old: RolloutSpec, new: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    """The state under a reloaded spec: kept as is when the steps are unchanged, else re-entered at the
    same step index; a different stable or canary version is a new rollout."""
    if (old.stable, old.canary) != (new.stable, new.canary):
        return begin(new, now)
    if old.steps == new.steps or state.phase in SETTLED:
        return state
    return _enter(new, replace(state, step=min(state.step, len(new.steps))), now)


# --- internals -----------------------------------------------------------------------------------


def _enter(spec: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    """Apply ``setWeight`` steps from ``state.step`` until a pause, or complete."""
    step, weight = state.step, state.weight
    while step < len(spec.steps) and spec.steps[step].weight is not None:
        weight = spec.steps[step].weight or 0
        step += 1
    if step >= len(spec.steps):
        message = f"complete: canary {spec.canary!r} takes 100% of traffic"
        return replace(
            state, phase=Phase.HEALTHY, step=len(spec.steps), weight=100, message=message, step_since=now
        )
    return _settle(spec, replace(state, step=step, weight=weight, step_since=now), now)


def _settle(spec: RolloutSpec, state: RolloutState, now: float) -> RolloutState:
    """Phase and message of a running rollout at a pause step."""
    where = _where(spec, state)
    pause = spec.steps[state.step].pause
    if state.held:
        phase, message = Phase.PAUSED, f"paused by an operator at {where}"
    elif pause is None:
        phase, message = Phase.PAUSED, f"paused until promoted at {where}"
    elif now - state.step_since < pause:
        left = pause - (now - state.step_since)
        phase, message = Phase.PROGRESSING, f"at {where}; next step in {left:.0f}s"
    elif state.verdict is not None and state.verdict.outcome is Outcome.INCONCLUSIVE:
        phase = Phase.INCONCLUSIVE
        message = f"staying at {where}: analysis inconclusive ({state.verdict.reason})"
    else:
        phase, message = Phase.PROGRESSING, f"at {where}; waiting for a passing analysis"
    return replace(state, phase=phase, message=message)


def _roll_back(
    spec: RolloutSpec, state: RolloutState, now: float, phase: Phase, reason: str, why: str
) -> RolloutState:
    message = f"rolled back to 100% on stable {spec.stable!r}: {why}"
    return replace(state, phase=phase, weight=0, message=message, held=False, rollback=reason, step_since=now)


def _where(spec: RolloutSpec, state: RolloutState) -> str:
    return f"step {state.step + 1}/{len(spec.steps)}, canary {spec.canary!r} at {state.weight}%"


def _pause_over(spec: RolloutSpec, state: RolloutState, now: float) -> bool:
    if state.step >= len(spec.steps):
        return False
    pause = spec.steps[state.step].pause
    return pause is not None and now - state.step_since >= pause


def _checked_this_step(state: RolloutState) -> bool:
    # strictly after: a check judged in the tick that entered the step belongs to the step before
    return state.verdict_at is not None and state.verdict_at > state.step_since


def _passed_this_step(state: RolloutState) -> bool:
    return _checked_this_step(state) and state.verdict is not None and state.verdict.outcome is Outcome.PASSED


def _require_running(spec: RolloutSpec, state: RolloutState, command: str) -> None:
    if state.phase is Phase.HEALTHY:
        raise CommandError(f"cannot {command}: the rollout of {spec.model} is complete")
    if state.phase in ROLLED_BACK:
        raise CommandError(
            f"cannot {command}: the rollout of {spec.model} was rolled back ({state.message}); "
            "'resume' starts it again from the first step"
        )
