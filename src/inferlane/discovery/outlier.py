"""Passive outlier ejection per backend pool (Envoy ``outlier_detection`` semantics; pure, ``now`` passed in).

* Two separate counters per endpoint: consecutive 5xx responses and consecutive local-origin failures
  (connect failure, reset, timeout). A success resets both.
* Reaching either threshold ejects the endpoint for ``base_ejection_time × n``, ``n`` being how many times
  it has been ejected including this one, capped at ``max_ejection_time``. Ejection ends by time alone.
* ``n`` decays: it drops by one for every full ``base_ejection_time`` the endpoint spends un-ejected
  (Envoy decrements it once per interval while the host is healthy).
* Results reported while an endpoint is ejected come from requests sent before it was ejected: they do
  not count, so it starts afresh when it comes back.
* An ejection that would leave more than ``max_ejection_percent`` of the pool ejected is refused. The cap is
  ``floor(pool size × percent / 100)`` endpoints: a pool of one at 50% is never emptied by ejection alone, a
  pool of three at 50% loses at most one; 100% allows ejecting every endpoint. A refused endpoint keeps its
  count, so its next failure tries again (and succeeds once another endpoint has come back).
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

    def __post_init__(self) -> None:
        if self.consecutive_5xx < 1 or self.consecutive_local_origin_failures < 1:
            raise ValueError("outlier detection: consecutive thresholds must be at least 1")
        if self.base_ejection_time < 0 or self.max_ejection_time < 0:
            raise ValueError("outlier detection: ejection times cannot be negative")
        if not 0 <= self.max_ejection_percent <= 100:
            raise ValueError("outlier detection: maxEjectionPercent must be within 0-100")


class _Host:
    __slots__ = ("consecutive_5xx", "consecutive_local", "ejected_until", "released_at", "times_ejected")

    def __init__(self) -> None:
        self.consecutive_5xx = 0
        self.consecutive_local = 0
        self.times_ejected = 0
        self.ejected_until: float | None = None
        self.released_at = 0.0


class OutlierDetector:
    __slots__ = ("_hosts", "_last_until", "settings")

    def __init__(self, settings: OutlierSettings) -> None:
        self.settings = settings
        self._hosts: dict[str, _Host] = {}
        #: when the latest ejection ends: before then some endpoint may be ejected, after it none is
        self._last_until = float("-inf")

    def set_endpoints(self, ids: Iterable[str]) -> None:
        """The pool's current membership: new ids start clean, removed ones are forgotten."""
        self._hosts = {i: self._hosts.get(i) or _Host() for i in ids}

    def _host(self, endpoint_id: str, now: float) -> _Host | None:
        host = self._hosts.get(endpoint_id)
        if host is not None and host.ejected_until is not None and now >= host.ejected_until:
            host.released_at = host.ejected_until  # when it really came back, not when we noticed
            host.ejected_until = None
        return host

    def on_success(self, endpoint_id: str, now: float) -> None:
        host = self._host(endpoint_id, now)
        if host is not None:
            host.consecutive_5xx = 0
            host.consecutive_local = 0

    def on_5xx(self, endpoint_id: str, now: float) -> bool:
        """Count a 5xx; True if this one ejected the endpoint."""
        host = self._host(endpoint_id, now)
        if host is None or host.ejected_until is not None:
            return False
        host.consecutive_5xx += 1
        return host.consecutive_5xx >= self.settings.consecutive_5xx and self._eject(host, now)

    def on_local_failure(self, endpoint_id: str, now: float) -> bool:
        """Count a connect failure, reset or timeout; True if this one ejected the endpoint."""
        host = self._host(endpoint_id, now)
        if host is None or host.ejected_until is not None:
            return False
        host.consecutive_local += 1
        threshold = self.settings.consecutive_local_origin_failures
        return host.consecutive_local >= threshold and self._eject(host, now)

    def _eject(self, host: _Host, now: float) -> bool:
        settings = self.settings
        cap = len(self._hosts) * settings.max_ejection_percent // 100
        if len(self.ejected(now)) >= cap:
            return False
        base = settings.base_ejection_time
        if base > 0 and host.times_ejected:
            healthy_intervals = int((now - host.released_at) // base)
            host.times_ejected = max(0, host.times_ejected - healthy_intervals)
        host.times_ejected += 1
        host.ejected_until = now + min(base * host.times_ejected, settings.max_ejection_time)
        self._last_until = max(self._last_until, host.ejected_until)
        host.consecutive_5xx = 0
        host.consecutive_local = 0
        return True

    def any_ejected(self, now: float) -> bool:
        """False when no endpoint can be ejected now (a cheap test before asking per endpoint)."""
        return now < self._last_until

    def is_ejected(self, endpoint_id: str, now: float) -> bool:
        host = self._host(endpoint_id, now)
        return host is not None and host.ejected_until is not None

    def ejected(self, now: float) -> frozenset[str]:
        return frozenset(i for i in self._hosts if self.is_ejected(i, now))
