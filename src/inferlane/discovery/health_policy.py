"""Active health-check state of one endpoint: thresholds of consecutive probe results (pure)."""

from __future__ import annotations


class HealthState:
    """Healthy → unhealthy after ``unhealthy_threshold`` consecutive failed probes; unhealthy → healthy
    after ``healthy_threshold`` consecutive passing ones."""

    __slots__ = ("_healthy", "_run", "healthy_threshold", "probed", "unhealthy_threshold")

    def __init__(
        self, unhealthy_threshold: int, healthy_threshold: int, initially_healthy: bool = True
    ) -> None:
        self.unhealthy_threshold = unhealthy_threshold
        self.healthy_threshold = healthy_threshold
        self._healthy = initially_healthy
        self._run = 0
        self.probed = False

    @property
    def healthy(self) -> bool:
        return self._healthy

    def on_probe(self, ok: bool) -> bool | None:
        """Record a probe; returns the new health when it changed, else ``None``."""
        self.probed = True
        if ok == self._healthy:
            self._run = 0
            return None
        self._run += 1
        threshold = self.healthy_threshold if ok else self.unhealthy_threshold
        if self._run < threshold:
            return None
        self._healthy = ok
        self._run = 0
        return ok
