"""Isolating the bad callers of a failed batch by bisection (pure: the batcher does the sending).

When a merged batch fails with a status that blames the input (:func:`bisectable`: 400, 413, 422), one
caller's item may be poisoning the rest. The batcher then asks :class:`Bisection` what to do with the
failed group of callers (positions in the original batch):

* a group of one caller fails: that caller gets the error — the upstream's answer to its own call alone,
  so the message names its own problem;
* a larger group is cut into two halves (the first half takes the odd caller), each re-merged and sent as
  its own batch, concurrently; a half that succeeds answers its callers, a half that fails comes back here.

So only bad callers get an error and every good caller gets its results; with ``b`` bad callers among
``n`` it costs at most ``2·b·⌈log2 n⌉`` extra upstream calls, and never more than ``2n − 2``. A group that
fails as a whole while both of its halves succeed (say a 413 for the total size) simply ends with
everyone answered. ``max_extra_calls`` caps the cost when every caller is bad (a shared field the upstream
rejects): a group whose halves no longer fit the budget fails as a whole with the error it got.

Other failures are not bisected: 5xx and timeouts follow the route's retry policy, 401/403/404/429 would
fail every half alike, and a wrong number of results is an error for every caller of that batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

BISECTABLE_STATUSES = frozenset({400, 413, 422})


def bisectable(status: int) -> bool:
    """Whether a batch that failed with this HTTP status is worth bisecting."""
    return status in BISECTABLE_STATUSES


@dataclass(frozen=True, slots=True)
class BisectStep:
    """What to do after a group failed: send each of ``send`` as its own batch, fail ``fail`` now."""

    send: tuple[tuple[int, ...], ...] = ()
    fail: tuple[int, ...] = ()


def halves(group: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    middle = (len(group) + 1) // 2
    return tuple(group[:middle]), tuple(group[middle:])


class Bisection:
    """The bisection of one failed batch; call :meth:`failed` for the batch and for every half that fails."""

    __slots__ = ("_calls", "max_extra_calls")

    def __init__(self, max_extra_calls: int | None = None) -> None:
        if max_extra_calls is not None and max_extra_calls < 0:
            raise ValueError("bisection: max_extra_calls cannot be negative")
        self.max_extra_calls = max_extra_calls
        self._calls = 0

    @property
    def extra_calls(self) -> int:
        """Upstream calls planned so far, beyond the original batch."""
        return self._calls

    def failed(self, group: Sequence[int]) -> BisectStep:
        if len(group) <= 1:
            return BisectStep(fail=tuple(group))
        if self.max_extra_calls is not None and self._calls + 2 > self.max_extra_calls:
            return BisectStep(fail=tuple(group))
        self._calls += 2
        return BisectStep(send=halves(group))


@dataclass(frozen=True, slots=True)
class BisectOutcome:
    failed: tuple[int, ...]
    calls: tuple[tuple[int, ...], ...]  # every batch sent, the original first, in breadth-first order


def run_bisection(
    size: int, batch_fails: Callable[[tuple[int, ...]], bool], max_extra_calls: int | None = None
) -> BisectOutcome:
    """Play a whole bisection against an oracle that says whether a batch of these callers fails.

    The batcher drives :class:`Bisection` concurrently; this sequential replay gives the same verdicts and
    calls, and serves tests, documentation and benchmarks.
    """
    bisection = Bisection(max_extra_calls)
    original = tuple(range(size))
    calls: list[tuple[int, ...]] = [original]
    pending = [original] if size and batch_fails(original) else []
    failed: list[int] = []
    while pending:
        step = bisection.failed(pending.pop(0))
        failed.extend(step.fail)
        for group in step.send:
            calls.append(group)
            if batch_fails(group):
                pending.append(group)
    return BisectOutcome(failed=tuple(sorted(failed)), calls=tuple(calls))
