"""The admission queue policy (pure): who waits, who goes next, who is turned away when it is full.

Order: higher criticality band first (critical > standard > sheddable), then higher numeric priority, then
first-come first-served. With tenant fairness on, the waiters of one (band, priority) level are taken
round-robin across tenants, FIFO within a tenant, so one tenant's burst cannot starve the others. A full
queue makes room for a more important newcomer by evicting its least important, newest waiter; otherwise
the newcomer is refused. Removal (client hang-up, timeout) is O(1): the waiter is marked and skipped.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

BANDS = {"critical": 2, "standard": 1, "sheddable": 0}

Level = tuple[int, int]


@dataclass(eq=False, slots=True)
class Waiter:
    band: int
    priority: int = 0
    tenant: str = ""
    enqueued_at: float = 0.0
    #: waiting | admitted | removed | evicted
    state: str = "waiting"
    #: the async shell's wake-up handle (a future); opaque here
    handle: Any = field(default=None, repr=False)

    @property
    def level(self) -> Level:
        return (self.band, self.priority)


class AdmissionQueue:
    __slots__ = ("_dead", "_levels", "_size", "fairness", "max_size")

    def __init__(self, max_size: int, fairness: bool = False) -> None:
        self.max_size = max_size
        self.fairness = fairness
        self._levels: dict[Level, OrderedDict[str, deque[Waiter]]] = {}
        self._size = 0
        #: removed or evicted waiters still sitting in a deque (skipped by pop, compacted when many)
        self._dead = 0

    def __len__(self) -> int:
        return self._size

    def push(self, waiter: Waiter) -> tuple[bool, Waiter | None]:
        """Queue ``waiter``: (accepted, the waiter evicted to make room or None)."""
        evicted = None
        if self._size >= self.max_size:
            evicted = self._least_important()
            if evicted is None or evicted.level >= waiter.level:
                return False, None
            self._drop(evicted, "evicted")
        tenants = self._levels.setdefault(waiter.level, OrderedDict())
        key = waiter.tenant if self.fairness else ""
        tenants.setdefault(key, deque()).append(waiter)
        self._size += 1
        return True, evicted

    def pop(self) -> Waiter | None:
        """The next waiter to admit, or None when nobody waits."""
        while self._levels:
            level = max(self._levels)
            tenants = self._levels[level]
            while tenants:
                key, waiters = next(iter(tenants.items()))
                while waiters and waiters[0].state != "waiting":
                    waiters.popleft()
                    self._dead -= 1
                if not waiters:
                    del tenants[key]
                    continue
                waiter = waiters.popleft()
                if waiters:
                    tenants.move_to_end(key)  # round-robin across tenants (one key without fairness)
                else:
                    del tenants[key]
                waiter.state = "admitted"
                self._size -= 1
                return waiter
            del self._levels[level]
        return None

    def remove(self, waiter: Waiter) -> bool:
        """Take a waiter out (timed out, client gone); False if it was no longer waiting."""
        if waiter.state != "waiting":
            return False
        self._drop(waiter, "removed")
        return True

    def _drop(self, waiter: Waiter, state: str) -> None:
        waiter.state = state
        self._size -= 1
        self._dead += 1
        if self._dead > max(64, self._size):
            self._compact()

    def _compact(self) -> None:
        for level in list(self._levels):
            tenants = self._levels[level]
            for key in list(tenants):
                kept = deque(w for w in tenants[key] if w.state == "waiting")
                if kept:
                    tenants[key] = kept
                else:
                    del tenants[key]
            if not tenants:
                del self._levels[level]
        self._dead = 0

    def _least_important(self) -> Waiter | None:
        """The newest waiter of the lowest level that still has one."""
        for level in sorted(self._levels):
            for waiters in reversed(self._levels[level].values()):
                for waiter in reversed(waiters):
                    if waiter.state == "waiting":
                        return waiter
        return None
