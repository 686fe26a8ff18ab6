"""Live per-endpoint state: in-flight count, circuit breaker and health. Owned by a backend pool."""

from __future__ import annotations

from inferlane.discovery.health_policy import HealthState
from inferlane.model import Endpoint
from inferlane.stages.breaker.policy import CircuitBreaker


class EndpointState:
    __slots__ = ("breaker", "endpoint", "health", "in_flight", "requests")

    def __init__(
        self, endpoint: Endpoint, breaker: CircuitBreaker | None, health: HealthState | None
    ) -> None:
        self.endpoint = endpoint
        self.breaker = breaker
        self.health = health
        self.in_flight = 0
        self.requests = 0

    @property
    def healthy(self) -> bool:
        return self.health is None or self.health.healthy
