"""Tokens per second over a sliding window, computed when read (pure: callers pass ``now``).

The request path only increments its token counters; when ``/metrics`` is scraped, the cumulative totals
are compared with the newest earlier reading at least one window old (or with zero at start-up), so
``model_tokens_per_second`` costs requests nothing and falls to 0 within a window once a model stops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

Key = tuple[str, str]


class TokenRate:
    def __init__(self, window: float = 60.0, started: float = 0.0, min_gap: float = 1.0) -> None:
        self.window = window
        #: readings closer together than this are not kept (frequent scrapers would grow the history)
        self.min_gap = min_gap
        self._readings: deque[tuple[float, dict[Key, float]]] = deque([(started, {})])

    def rates(self, totals: Mapping[Key, float], now: float) -> dict[Key, float]:
        """Per key: (total now − total at the baseline reading) / seconds since that reading."""
        readings = self._readings
        while len(readings) > 1 and readings[1][0] <= now - self.window:
            readings.popleft()
        base_time, base = readings[0]
        elapsed = now - base_time
        rates = {
            key: (total - base.get(key, 0.0)) / elapsed if elapsed > 0 else 0.0
            for key, total in totals.items()
        }
        if now - readings[-1][0] >= self.min_gap:
            readings.append((now, dict(totals)))
        return rates
