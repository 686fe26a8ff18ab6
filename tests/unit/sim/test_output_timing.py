from __future__ import annotations

import random

import pytest

from inferlane.sim.output import PIECES, natural_length, plan_output
from inferlane.sim.timing import Timing


@pytest.mark.parametrize(
    ("natural", "max_tokens", "ignore_eos", "tokens", "reason"),
    [
        (10, 100, False, 10, "stop"),
        (10, 5, False, 5, "length"),
        (10, 100, True, 100, "length"),
        (10, 10, False, 10, "stop"),
    ],
)
def test_length_and_finish_reason(
    natural: int, max_tokens: int, ignore_eos: bool, tokens: int, reason: str
) -> None:
    plan = plan_output(seed=0, natural=natural, max_tokens=max_tokens, ignore_eos=ignore_eos)
    assert (plan.tokens, plan.finish_reason) == (tokens, reason)


def test_stop_string_cuts_the_text_before_it() -> None:
    full = plan_output(seed=0, natural=50, max_tokens=50).text()
    word = full[21:27]
    plan = plan_output(seed=0, natural=50, max_tokens=50, stop=[word])
    assert plan.finish_reason == "stop" and plan.stop_reason == word
    assert plan.text() == full[: full.find(word)]


def test_min_tokens_delays_eos() -> None:
    assert plan_output(seed=0, natural=3, max_tokens=50, min_tokens=8).tokens == 8


def test_natural_length_stays_in_range() -> None:
    assert {natural_length(s, 4, 6) for s in range(100)} == {4, 5, 6}
    assert all(len(p) == 4 for p in PIECES)


def test_step_cost_formula() -> None:
    t = Timing(prefill_overhead=0.02, prefill_per_token=0.001, decode_base=0.01, decode_per_seq=0.002)
    assert t.step_cost(0, 0) == 0
    assert t.step_cost(100, 0) == pytest.approx(0.12)
    assert t.step_cost(0, 10) == pytest.approx(0.03)
    assert t.step_cost(100, 10) == pytest.approx(0.15)
    assert t.step_cost(0, 20) > t.step_cost(0, 10)  # ITL grows with the batch


def test_batch_cost_pays_base_once() -> None:
    t = Timing(batch_base=0.01, batch_per_item=0.001)
    assert t.batch_cost(16) == pytest.approx(0.026)
    assert 16 * t.batch_cost(1) > 5 * t.batch_cost(16)


def test_jitter_is_seeded_and_bounded() -> None:
    t = Timing(decode_base=0.01, jitter=0.2)
    a = [t.step_cost(0, 1, random.Random(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    values = [t.step_cost(0, 1, rng) for rng in [random.Random(1)] * 200]
    assert all(0.008 - 1e-12 <= v <= 0.012 + 1e-12 for v in values) and len(set(values)) > 100
