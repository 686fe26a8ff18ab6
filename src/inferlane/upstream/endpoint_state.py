"""Live per-endpoint state: in-flight count, circuit breaker and health. Owned by a backend pool."""

from __future__ import annotations

from typing import Any

from inferlane.discovery.health_policy import HealthState
from inferlane.model import Endpoint
from inferlane.stages.breaker.policy import CircuitBreaker
from inferlane.upstream.signals import EndpointSignals


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
        "view_key",
    )

    def __init__(
        self, endpoint: Endpoint, breaker: CircuitBreaker | None, health: HealthState | None
    ) -> None:
        self.endpoint = endpoint
        self.breaker = breaker
        self.health = health
        self.in_flight = 0
        #: prompt tokens (not already cached there, as far as the prefix index knows) of requests in flight
        self.in_flight_tokens = 0
        self.requests = 0
        self.signals = EndpointSignals()
        #: the last picking view built from this state, and what it was built from (upstream/picker.py)
        self.view: Any = None
        self.view_key: tuple[Any, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.health is None or self.health.healthy
