"""Passive outlier ejection per backend pool (Envoy ``outlier_detection`` semantics, pure).

Separate counters of consecutive 5xx and consecutive local-origin failures (connect failure, reset,
timeout); a success resets both. Reaching a threshold ejects the endpoint for
``base_ejection_time × times ejected`` (capped at ``max_ejection_time``); the times-ejected count decays by
one for every ``base_ejection_time`` spent un-ejected. An ejection that would take the ejected share of the
pool above ``max_ejection_percent`` is refused — rounded down, so a pool of one with 50% is never emptied
by ejection alone; 100% allows ejecting everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutlierSettings:
    consecutive_5xx: int = 5
    consecutive_local_origin_failures: int = 5
    base_ejection_time: float = 30.0
    max_ejection_time: float = 300.0
    max_ejection_percent: int = 50


class _Host:
    __slots__ = ("consecutive_5xx", "consecutive_local", "ejected_until", "released_at", "times_ejected")

    def __init__(self) -> None:
        self.consecutive_5xx = 0
        self.consecutive_local = 0
        self.times_ejected = 0
        self.ejected_until: float | None = None
        self.released_at = 0.0


class OutlierDetector:
    def __init__(self, settings: OutlierSettings) -> None:
        self.settings = settings
        self._hosts: dict[str, _Host] = {}

    def set_endpoints(self, ids: Iterable[str]) -> None:
        self._hosts = {i: self._hosts.get(i) or _Host() for i in ids}

    def _host(self, endpoint_id: str, now: float) -> _Host | None:
        host = self._hosts.get(endpoint_id)
        if host is not None and host.ejected_until is not None and now >= host.ejected_until:
            host.ejected_until = None
            host.released_at = now
        return host

    def on_success(self, endpoint_id: str, now: float) -> None:
        host = self._host(endpoint_id, now)
        if host is not None:
            host.consecutive_5xx = 0
            host.consecutive_local = 0

    def on_5xx(self, endpoint_id: str, now: float) -> bool:
        """Count a 5xx; returns True if this one ejected the endpoint."""
        return self._count(endpoint_id, now, "consecutive_5xx", self.settings.consecutive_5xx)

    def on_local_failure(self, endpoint_id: str, now: float) -> bool:
        """Count a connect failure, reset or timeout; returns True if this one ejected the endpoint."""
        threshold = self.settings.consecutive_local_origin_failures
        return self._count(endpoint_id, now, "consecutive_local", threshold)

    def _count(self, endpoint_id: str, now: float, counter: str, threshold: int) -> bool:
        host = self._host(endpoint_id, now)
        if host is None:
            return False
        value = getattr(host, counter) + 1
        setattr(host, counter, value)
        return value >= threshold and self._eject(host, now)

    def _eject(self, host: _Host, now: float) -> bool:
        if host.ejected_until is not None:
            return False
        cap = len(self._hosts) * self.settings.max_ejection_percent // 100
        if len(self.ejected(now)) + 1 > cap:
            return False
        base = self.settings.base_ejection_time
        if base > 0 and host.times_ejected:
            decay = int((now - host.released_at) // base)
            host.times_ejected = max(0, host.times_ejected - decay)
        host.times_ejected += 1
        host.ejected_until = now + min(base * host.times_ejected, self.settings.max_ejection_time)
        host.consecutive_5xx = 0
        host.consecutive_local = 0
        return True

    def is_ejected(self, endpoint_id: str, now: float) -> bool:
        host = self._host(endpoint_id, now)
        return host is not None and host.ejected_until is not None

    def ejected(self, now: float) -> frozenset[str]:
        return frozenset(i for i in self._hosts if self.is_ejected(i, now))
