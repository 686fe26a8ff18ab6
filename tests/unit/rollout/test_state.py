"""The rollout state machine, driven by a fake clock and scripted analysis verdicts (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inferlane.rollout import state as machine
from inferlane.rollout.analysis import AnalysisSpec, Outcome, Verdict
from inferlane.rollout.state import CommandError, Phase, RolloutSpec, RolloutState, Step

PASS = Verdict(Outcome.PASSED, "canary v2 healthy")
FAIL = Verdict(Outcome.FAILED, "error rate 5.00% of canary v2 is above the limit 1.00%", "error_rate")
SLOW = Verdict(Outcome.FAILED, "p99 latency 900ms of canary v2 is above the limit 500ms", "p99_latency")
THIN = Verdict(Outcome.INCONCLUSIVE, "not enough traffic: canary v2 has 3 of the 50 samples needed")

#: the seed's steps: 10 → 5m → 25 → 10m → 50 → 15m → 75 → 10m → 100
SEED = (
    Step(weight=10),
    Step(pause=300),
    Step(weight=25),
    Step(pause=600),
    Step(weight=50),
    Step(pause=900),
    Step(weight=75),
    Step(pause=600),
    Step(weight=100),
)


def spec(steps: tuple[Step, ...] = SEED, interval: float = 30.0, failure_limit: int = 0) -> RolloutSpec:
    analysis = AnalysisSpec(interval=interval, failure_limit=failure_limit)
    return RolloutSpec("chat", "v1", "v2", steps, analysis)


def drive(
    s: RolloutSpec, st: RolloutState, start: float, end: float, verdict: Callable[[float], Verdict]
) -> tuple[RolloutState, list[tuple[float, Phase, int]]]:
    """Tick once a second like the controller, judging whenever a check is due; record every change."""
    changes = []
    now = start
    while now <= end:
        due = machine.analysis_due(s, st, now)
        new = machine.tick(s, st, now, verdict(now) if due else None)
        if (new.phase, new.weight) != (st.phase, st.weight):
            changes.append((now, new.phase, new.weight))
        st = new
        now += 1.0
    return st, changes


def always(verdict: Verdict) -> Callable[[float], Verdict]:
    return lambda now: verdict


def test_begin_applies_the_first_weight_and_waits() -> None:
    st = machine.begin(spec(), 0.0)
    assert (st.phase, st.step, st.weight) == (Phase.PROGRESSING, 1, 10)
    assert spec().weights(st.weight) == {"v1": 90, "v2": 10}
    assert "at step 2/9, canary 'v2' at 10%; next step in 300s" in st.message


def test_a_healthy_canary_walks_every_step_to_100() -> None:
    s = spec()
    st, changes = drive(s, machine.begin(s, 0.0), 0.0, 3000.0, always(PASS))
    assert (st.phase, st.step, st.weight) == (Phase.HEALTHY, 9, 100)
    assert [(when, weight) for when, _, weight in changes] == [(300, 25), (900, 50), (1800, 75), (2400, 100)]
    assert "complete: canary 'v2' takes 100% of traffic" in st.message


def test_a_failed_check_rolls_back_to_stable_with_the_reason() -> None:
    s = spec()
    st, changes = drive(s, machine.begin(s, 0.0), 0.0, 200.0, lambda now: FAIL if now >= 90 else PASS)
    assert changes == [(90.0, Phase.DEGRADED, 0)]
    assert st.rollback == "error_rate"
    assert s.weights(st.weight) == {"v1": 100, "v2": 0}
    assert "rolled back to 100% on stable 'v1': error rate 5.00%" in st.message
    # settled: time and verdicts change nothing any more
    assert drive(s, st, 200.0, 5000.0, always(PASS))[0] == st


def test_slow_canary_rolls_back_on_p99() -> None:
    s = spec()
    st, _ = drive(s, machine.begin(s, 0.0), 0.0, 100.0, always(SLOW))
    assert (st.phase, st.rollback) == (Phase.DEGRADED, "p99_latency")


def test_failure_limit_tolerates_that_many_consecutive_failures() -> None:
    s = spec(failure_limit=1)
    flaky = {30.0: FAIL, 60.0: PASS, 90.0: FAIL, 120.0: FAIL}
    _st, changes = drive(s, machine.begin(s, 0.0), 0.0, 200.0, lambda now: flaky.get(now, PASS))
    assert changes == [(120.0, Phase.DEGRADED, 0)]


def test_too_little_traffic_is_inconclusive_and_holds_the_weight() -> None:
    s = spec()
    thin_until = 700.0
    _st, changes = drive(
        s, machine.begin(s, 0.0), 0.0, 1000.0, lambda now: THIN if now < thin_until else PASS
    )
    # before the pause is over nothing is decided; at its end the rollout stays at 10% and says why
    assert changes[0] == (300.0, Phase.INCONCLUSIVE, 10)
    assert changes[1] == (720.0, Phase.PROGRESSING, 25)  # the first passing check after traffic arrived
    mid, _ = drive(s, machine.begin(s, 0.0), 0.0, 400.0, always(THIN))
    assert mid.phase is Phase.INCONCLUSIVE and mid.weight == 10
    assert "analysis inconclusive (not enough traffic: canary v2 has 3 of the 50" in mid.message


def test_a_pause_ends_only_after_a_check_taken_during_it() -> None:
    s = spec(steps=(Step(weight=10), Step(pause=5), Step(weight=50), Step(pause=5)), interval=60.0)
    st = machine.begin(s, 0.0)
    assert not machine.analysis_due(s, st, 4.0)
    assert machine.analysis_due(s, st, 5.0)  # pause over, no check yet in this step: check at once
    st = machine.tick(s, st, 5.0, PASS)
    assert (st.step, st.weight) == (3, 50)
    # the check at 5.0 belongs to the previous step: the next pause waits for its own
    assert machine.tick(s, st, 10.0, None).weight == 50
    assert machine.analysis_due(s, st, 10.0)
    assert machine.tick(s, st, 10.0, PASS).phase is Phase.HEALTHY


def test_pause_until_promoted_waits_but_still_rolls_back_on_failure() -> None:
    s = spec(steps=(Step(weight=20), Step(), Step(weight=100)))
    st, _ = drive(s, machine.begin(s, 0.0), 0.0, 10_000.0, always(PASS))
    assert (st.phase, st.weight) == (Phase.PAUSED, 20) and "until promoted" in st.message
    assert machine.promote(s, st, 10_001.0).phase is Phase.HEALTHY
    failed, _ = drive(s, st, 10_001.0, 10_100.0, always(FAIL))
    assert failed.phase is Phase.DEGRADED


def test_operator_pause_holds_and_resume_continues() -> None:
    s = spec()
    st = machine.pause(s, machine.begin(s, 0.0), 10.0)
    assert (st.phase, st.held) == (Phase.PAUSED, True) and "paused by an operator" in st.message
    held, _ = drive(s, st, 10.0, 1000.0, always(PASS))
    assert (held.phase, held.weight) == (Phase.PAUSED, 10)
    resumed = machine.resume(s, held, 1000.0)
    assert resumed.held is False
    # the pause's time already passed while held: the next passing check moves on
    moved, _ = drive(s, resumed, 1000.0, 1031.0, always(PASS))
    assert moved.weight == 25


def test_promote_skips_the_current_pause_or_everything() -> None:
    s = spec()
    st = machine.begin(s, 0.0)
    st = machine.promote(s, st, 1.0)
    assert (st.step, st.weight, st.phase) == (3, 25, Phase.PROGRESSING)
    full = machine.promote(s, st, 2.0, full=True)
    assert (full.step, full.weight, full.phase) == (9, 100, Phase.HEALTHY)


def test_abort_rolls_back_and_resume_starts_over() -> None:
    s = spec()
    st = machine.promote(s, machine.begin(s, 0.0), 1.0)
    aborted = machine.abort(s, st, 2.0)
    assert (aborted.phase, aborted.weight, aborted.rollback) == (Phase.ABORTED, 0, "aborted")
    assert "aborted by an operator at step 4/9, canary 'v2' at 25%" in aborted.message
    again = machine.resume(s, aborted, 3.0)
    assert (again.phase, again.step, again.weight, again.attempt) == (Phase.PROGRESSING, 1, 10, 2)


@pytest.mark.parametrize(
    ("phase_of", "command", "says"),
    [
        ("healthy", machine.promote, "is complete"),
        ("healthy", machine.pause, "is complete"),
        ("healthy", machine.resume, "is complete"),
        ("degraded", machine.promote, "'resume' starts it again"),
        ("degraded", machine.pause, "was rolled back"),
        ("degraded", machine.abort, "already rolled back"),
        ("progressing", machine.resume, "is not paused"),
    ],
)
def test_commands_that_do_not_apply_say_why(
    phase_of: str, command: Callable[[RolloutSpec, RolloutState, float], RolloutState], says: str
) -> None:
    s = spec()
    st = machine.begin(s, 0.0)
    if phase_of == "healthy":
        st = machine.promote(s, st, 1.0, full=True)
    elif phase_of == "degraded":
        st = machine.tick(s, st, 30.0, FAIL)
    with pytest.raises(CommandError, match=says):
        command(s, st, 2.0)


def test_abort_after_completion_rolls_back_too() -> None:
    s = spec()
    done = machine.promote(s, machine.begin(s, 0.0), 1.0, full=True)
    undone = machine.abort(s, done, 2.0)
    assert (undone.phase, undone.weight) == (Phase.ABORTED, 0) and "after completing" in undone.message


def test_carry_over_on_reload() -> None:
    s = spec()
    st = machine.promote(s, machine.begin(s, 0.0), 1.0)  # step 3, 25%
    assert machine.carry_over(s, spec(), st, 5.0) == st  # same rollout: state kept as is
    restarted = machine.carry_over(s, RolloutSpec("chat", "v1", "v3", SEED), st, 5.0)
    assert (restarted.step, restarted.weight) == (1, 10)
    shorter = spec(steps=(Step(weight=10), Step(pause=60), Step(weight=30), Step(pause=60)))
    moved = machine.carry_over(s, shorter, st, 5.0)
    assert (moved.step, moved.weight, moved.step_since) == (3, 25, 5.0)  # same index, timer restarted
    beyond = machine.carry_over(s, spec(steps=(Step(weight=10), Step(pause=60))), st, 5.0)
    assert (beyond.phase, beyond.weight) == (Phase.HEALTHY, 100)


@pytest.mark.parametrize(
    ("steps", "failure_limit", "bounds"),
    [
        (SEED, 0, (2400.0, 30.0)),  # the seed's pauses: 5 + 10 + 15 + 10 minutes
        ((Step(weight=10), Step(), Step(weight=100)), 2, (None, 90.0)),  # an operator's promote is needed
        ((Step(weight=100),), 0, (0.0, 30.0)),
    ],
)
def test_time_bounds(steps: tuple[Step, ...], failure_limit: int, bounds: tuple[float | None, float]) -> None:
    assert machine.time_bounds(spec(steps=steps, failure_limit=failure_limit)) == bounds
