"""Output tokens per second over a sliding window, per label set (pure: callers pass ``now``).

Counts go into one-second buckets; the rate is the window's sum over the window's length, so a model that
stops serving falls to 0 within one window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

Key = tuple[str, str]


class TokenRate:
    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._buckets: dict[Key, deque[list[float]]] = {}

    def add(self, key: Key, tokens: int, now: float) -> None:
        second = float(int(now))
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._buckets[key] = deque()
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += tokens
        else:
            buckets.append([second, float(tokens)])
        self._trim(buckets, now)

    def _trim(self, buckets: deque[list[float]], now: float) -> None:
        while buckets and buckets[0][0] <= now - self.window:
            buckets.popleft()

    def rates(self, now: float) -> Iterator[tuple[Key, float]]:
        """(key, tokens per second) for every key seen; keys idle for a whole window report 0."""
        for key, buckets in self._buckets.items():
            self._trim(buckets, now)
            yield key, sum(count for _, count in buckets) / self.window
