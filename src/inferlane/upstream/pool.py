"""A backend pool: its endpoints, their live state, and the choice of one endpoint per attempt.

Picking never awaits. Filters apply in order — not tried yet (when another is left), healthy and not
ejected, breaker admits, capacity left — and each empty result has its own error, so a client learns
*why* nothing could take its request. The survivors go to the backend's picking profile
(upstream/picker.py): sticky-until-saturated, least-request, round-robin, …
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from inferlane.config.schema import BackendConfig, CircuitBreakerConfig, HealthCheckConfig
from inferlane.discovery.health_policy import HealthState
from inferlane.discovery.outlier import OutlierDetector, OutlierSettings
from inferlane.errors import CircuitOpen, InferlaneError, NoHealthyEndpoint, PoolFull
from inferlane.model import Endpoint, EndpointSnapshot
from inferlane.picking.profile import PoolSaturation
from inferlane.picking.view import PickRequest
from inferlane.stages.breaker.policy import CircuitBreaker
from inferlane.upstream.endpoint_state import EndpointState
from inferlane.upstream.lease import Lease, Result
from inferlane.upstream.picker import Choice, EndpointPicker

ResultHook = Callable[[EndpointState, Result], None]
#: (chosen endpoint, kind: sticky | fail_open | scored)
PickHook = Callable[[EndpointState, str], None]


class BackendPool:
    def __init__(
        self,
        config: BackendConfig,
        breaker: CircuitBreakerConfig,
        health: HealthCheckConfig,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.name = config.name
        self.config = config
        self.breaker_config = breaker
        self.health_config = health
        self.clock = clock
        self.rng = rng
        #: observer of every attempt's outcome (metrics); set by the composition root
        self.on_result: ResultHook | None = None
        #: called whenever an attempt ends (capacity freed): admission queues listen here
        self.on_release: list[Callable[[], None]] = []
        #: observer of every endpoint choice (metrics); set by the composition root
        self.on_pick: PickHook | None = None
        self.picker = EndpointPicker(config.picking, config.engine)
        od = config.outlier_detection
        self.outliers = OutlierDetector(
            OutlierSettings(
                consecutive_5xx=od.consecutive_5xx,
                consecutive_local_origin_failures=od.consecutive_local_origin_failures,
                base_ejection_time=od.base_ejection_time,
                max_ejection_time=od.max_ejection_time,
                max_ejection_percent=od.max_ejection_percent,
            )
        )
        pool = config.connection_pool
        self.capacity = min(pool.max_requests, pool.max_connections + pool.max_pending_requests)
        self.states: dict[str, EndpointState] = {}
        #: endpoints whose breaker is not CLOSED; while empty, picking skips the breaker checks
        self._tripped: set[str] = set()
        self.snapshot = EndpointSnapshot(config.name, ())
        self.set_endpoints(tuple(Endpoint.parse(config.name, url) for url in config.endpoints))

    def set_endpoints(self, endpoints: tuple[Endpoint, ...]) -> None:
        """Swap in a new snapshot; endpoints that stay keep their state."""
        states = {}
        for endpoint in endpoints:
            states[endpoint.id] = self.states.get(endpoint.id) or self._new_state(endpoint)
        self.states = states
        self._tripped &= states.keys()
        self.snapshot = EndpointSnapshot(self.name, endpoints, self.snapshot.version + 1)
        self.outliers.set_endpoints(states)
        self.picker.sync(list(states.values()))

    def _new_state(self, endpoint: Endpoint) -> EndpointState:
        b = self.breaker_config
        breaker = (
            CircuitBreaker(b.failure_threshold, b.recovery_timeout, b.half_open_requests)
            if b.enabled
            else None
        )
        h = self.health_config
        health = HealthState(h.unhealthy_threshold, h.healthy_threshold) if h.enabled else None
        return EndpointState(endpoint, breaker, health)

    @property
    def health_checked(self) -> bool:
        return self.health_config.enabled

    @property
    def ready(self) -> bool:
        """Up when some endpoint is healthy; with health checks, only once probes have answered."""
        states = self.states.values()
        if not self.health_checked:
            return bool(self.states)
        return any(s.health is not None and s.health.probed and s.health.healthy for s in states)

    def pick(self, exclude: Sequence[Endpoint] = (), request: PickRequest | None = None) -> EndpointState:
        choice = self.choose(exclude, request)
        assert choice.state is not None
        return choice.state

    def choose(self, exclude: Sequence[Endpoint] = (), request: PickRequest | None = None) -> Choice:
        """The endpoint for one attempt (its breaker slot taken), with the picker's scores."""
        now = self.clock()
        states: Iterable[EndpointState] = self.states.values()
        if exclude and len(self.states) > 1:
            fresh = [s for s in states if s.endpoint not in exclude]
            states = fresh or states
        capacity = self.capacity
        roomy = [s for s in self._admitted(states, now) if s.in_flight < capacity]
        if not roomy:
            raise self._nothing_to_pick(states, now)
        choice = self.picker.choose(roomy, request, now, self.rng, self.states)
        chosen = choice.state
        if chosen is None:
            raise NoHealthyEndpoint(
                f"no healthy upstream: backend {self.name!r} has no endpoint that can take the request "
                f"({choice.result.empty_after or 'none eligible'})"
            )
        if chosen.breaker is not None and not chosen.breaker.try_acquire(now):
            raise CircuitOpen(
                f"circuit breaker open: backend {self.name!r} endpoint {chosen.endpoint.authority}"
            )
        if self.on_pick is not None:
            result = choice.result
            self.on_pick(chosen, "sticky" if result.sticky else "fail_open" if result.fail_open else "scored")
        return choice

    def live_states(self) -> list[EndpointState]:
        """Endpoints that could take a request now: healthy, not ejected, breaker not open."""
        return self._admitted(self.states.values(), self.clock())

    def _live(self, states: Iterable[EndpointState], now: float) -> list[EndpointState]:
        """Healthy and not ejected."""
        outliers = self.outliers
        if not outliers.any_ejected(now):
            return [s for s in states if s.healthy]
        return [s for s in states if s.healthy and not outliers.is_ejected(s.endpoint.id, now)]

    def _admitted(self, states: Iterable[EndpointState], now: float) -> list[EndpointState]:
        """Live, and the breaker admits a request."""
        live = self._live(states, now)
        if not self._tripped:
            return live
        return [s for s in live if s.breaker is None or s.breaker.allows(now)]

    def saturation(self, request: PickRequest | None = None) -> PoolSaturation:
        """Whether every endpoint that could take ``request`` is over a saturation limit."""
        return self.picker.saturation(self.live_states(), request, self.clock())

    def _nothing_to_pick(self, states: Iterable[EndpointState], now: float) -> InferlaneError:
        """Why none of ``states`` could take the request: the first filter that emptied the list."""
        live = self._live(states, now)
        if not live:
            return NoHealthyEndpoint(f"no healthy upstream: backend {self.name!r} has no healthy endpoint")
        if not self._admitted(live, now):
            return CircuitOpen(
                f"circuit breaker open: backend {self.name!r} "
                f"({len(live)} endpoint(s) failing, retry after the recovery timeout)"
            )
        return PoolFull(
            f"upstream connection pool full: backend {self.name!r} has {self.capacity} requests "
            "in flight or pending on every endpoint"
        )

    def record(self, state: EndpointState, result: Result) -> None:
        """Feed one attempt's outcome to the endpoint's breaker and the pool's outlier detector."""
        now = self.clock()
        breaker, endpoint_id = state.breaker, state.endpoint.id
        if result is Result.SUCCESS:
            if breaker is not None:
                breaker.on_success(now)
            self.outliers.on_success(endpoint_id, now)
        elif result is Result.ABANDONED:
            if breaker is not None:
                breaker.release(now)
        else:
            if breaker is not None:
                breaker.on_failure(now)
            if self.config.outlier_detection.enabled:
                if result is Result.SERVER_ERROR:
                    self.outliers.on_5xx(endpoint_id, now)
                else:
                    self.outliers.on_local_failure(endpoint_id, now)
        if breaker is not None:
            if breaker.closed:
                self._tripped.discard(endpoint_id)
            else:
                self._tripped.add(endpoint_id)
        if self.on_result is not None:
            self.on_result(state, result)
        for listener in self.on_release:
            listener()

    def lease(self, state: EndpointState, tokens: int = 0) -> Lease:
        return Lease(self, state, tokens)
