"""Active health-check state of one endpoint: thresholds of consecutive probe results (pure).

Healthy → unhealthy after ``unhealthy_threshold`` consecutive failed probes; unhealthy → healthy after
``healthy_threshold`` consecutive passing ones. A result that agrees with the current health resets the
run of disagreeing ones, so only an unbroken run flips it.
"""

from __future__ import annotations


class HealthState:
    __slots__ = ("_healthy", "_probed", "_run", "healthy_threshold", "unhealthy_threshold")

    def __init__(
        self, unhealthy_threshold: int, healthy_threshold: int, initially_healthy: bool = True
    ) -> None:
        if unhealthy_threshold < 1 or healthy_threshold < 1:
            raise ValueError("health check: unhealthyThreshold and healthyThreshold must be at least 1")
        self.unhealthy_threshold = unhealthy_threshold
        self.healthy_threshold = healthy_threshold
        self._healthy = initially_healthy
        self._run = 0  # consecutive results disagreeing with the current health
        self._probed = False

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def probed(self) -> bool:
        """At least one probe result has been seen."""
        return self._probed

    def on_probe(self, ok: bool) -> bool | None:
        """Record a probe result; the new health when it changed, else ``None``."""
        self._probed = True
        if ok == self._healthy:
            self._run = 0
            return None
        self._run += 1
        if self._run < (self.healthy_threshold if ok else self.unhealthy_threshold):
            return None
        self._healthy = ok
        self._run = 0
        return ok
