"""Live per-endpoint state: in-flight counts, load signals, circuit breaker and health. Owned by a pool.

Every change goes through a method here (``begin``/``prefilled``/``end`` for the in-proxy counters,
``observe`` for load reports, ``probe`` for health-check results), and each drops the cached picking view,
so the picker rebuilds the view of an endpoint only after that endpoint changed (upstream/picker.py)
instead of 64 views on every pick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferlane.discovery.health_policy import HealthState
from inferlane.discovery.load_report import LoadReport
from inferlane.model import Endpoint
from inferlane.stages.breaker.policy import CircuitBreaker
from inferlane.upstream.signals import EndpointSignals

if TYPE_CHECKING:
    from inferlane.picking.view import EndpointView


class EndpointState:
    __slots__ = (
        "breaker",
        "endpoint",
        "health",
        "in_flight",
        "in_flight_tokens",
        "requests",
        "signals",
        "view",
    )

    def __init__(
        self, endpoint: Endpoint, breaker: CircuitBreaker | None, health: HealthState | None
    ) -> None:
        self.endpoint = endpoint
        self.breaker = breaker
        self.health = health
        #: requests in flight; change with ``begin``/``end``
        self.in_flight = 0
        #: prompt tokens (not already cached there, as far as the prefix index knows) of requests in flight
        #: and not yet answered; change with ``begin``/``prefilled``
        self.in_flight_tokens = 0
        self.requests = 0
        #: last observed load signals; change with ``observe``
        self.signals = EndpointSignals()
        #: the picking view of this state, or None once something changed (upstream/picker.py)
        self.view: EndpointView | None = None

    @property
    def healthy(self) -> bool:
        """The health check's verdict (always True without health checks); changed by ``probe``."""
        return self.health is None or self.health.healthy

    def begin(self, tokens: int = 0) -> None:
        """A request was sent here with ``tokens`` prompt tokens still to prefill."""
        self.in_flight += 1
        self.in_flight_tokens += tokens
        self.requests += 1
        self.view = None

    def prefilled(self, tokens: int) -> None:
        """A request's first byte came back: its prompt tokens stop counting as pending work."""
        if tokens:
            self.in_flight_tokens -= tokens
            self.view = None

    def end(self) -> None:
        self.in_flight -= 1
        self.view = None

    def observe(self, report: LoadReport, now: float, *, scraped: bool = False) -> None:
        """A load report arrived (a response header or a scrape of the metrics page)."""
        self.signals.apply(report, now, scraped=scraped)
        self.view = None

    def probe(self, ok: bool) -> bool | None:
        """A health-check result; the new health when it changed, else None."""
        if self.health is None:
            return None
        changed = self.health.on_probe(ok)
        if changed is not None:
            self.view = None
        return changed
