"""The shell around the pure picking core for one backend: endpoint states → views → a profile's choice.

The pool has already dropped endpoints that were tried, are unhealthy or ejected, whose breaker refuses,
or that are at connection capacity; this picks among the rest. Picking never awaits: views are built from
the in-proxy counters and the last observed signals, both already in memory.

Profiles (``backends[].picking.profile``): ``sticky-until-saturated`` (the default for LLM engines),
``least-request`` (default otherwise), ``power-of-two`` (least in-flight of two random endpoints),
``prefix-blend`` (llm-d's older weighted prefix + queue + KV blend), ``round-robin`` and ``random``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from inferlane.config.picking import LLM_ENGINES, PickingConfig
from inferlane.picking.least_loaded import least_loaded
from inferlane.picking.prefix_index import PrefixIndex
from inferlane.picking.profile import (
    PickResult,
    PoolSaturation,
    Profile,
    ProfileConfig,
    SaturationDetector,
    preset,
)
from inferlane.picking.prompt import BLOCK_TOKENS
from inferlane.picking.view import EndpointView, PickRequest
from inferlane.upstream.endpoint_state import EndpointState

NO_REQUEST = PickRequest(model="")


def profile_name(config: PickingConfig, engine: str) -> str:
    if config.profile is not None:
        return config.profile
    return "sticky-until-saturated" if engine in LLM_ENGINES else "least-request"


def profile_config(config: PickingConfig, name: str) -> ProfileConfig:
    """The pure core's config for a named profile, with the backend's tunables applied."""
    base = ProfileConfig(
        prefill_tokens_per_s=config.prefill_tokens_per_s,
        ttft_budget_s=config.ttft_budget,
        max_queue_depth=config.max_queue_depth,
        max_kv_usage=config.max_kv_usage,
        signal_max_age_s=config.signal_max_age,
        affinity_ratio=config.affinity_ratio,
        min_match_tokens=config.min_match_tokens,
    )
    if name in ("least-request", "power-of-two", "round-robin", "random", "prefix-blend"):
        shape = preset("prefix-blend" if name == "prefix-blend" else "least-request")
        base = _replace(base, saturation_filter=False, affinity_ratio=None, scorers=shape.scorers)
        if name == "power-of-two":
            base = _replace(base, picker="power-of-two")
    if config.scorers is not None:
        base = _replace(base, scorers=tuple(config.scorers.items()))
    if config.picker is not None:
        base = _replace(base, picker=config.picker)
    return _replace(base, name=name)


def _replace(config: ProfileConfig, **changes: Any) -> ProfileConfig:
    return replace(config, **changes)


def view_of(state: EndpointState) -> EndpointView:
    """The picking view of an endpoint; cached on the state until the state changes."""
    return state.view or _build_view(state)


def _build_view(state: EndpointState) -> EndpointView:
    s = state.signals
    view = state.view = EndpointView(
        id=state.endpoint.id,
        healthy=state.healthy,
        sleeping=s.sleeping,
        loras_loaded=s.loras_loaded,
        loras_waiting=s.loras_waiting,
        max_loras=s.max_loras,
        in_flight=state.in_flight,
        in_flight_tokens=state.in_flight_tokens,
        queue_depth=s.queue_depth,
        kv_usage=s.kv_usage,
        signals_at=s.at,
        block_size=s.block_size,
        num_gpu_blocks=s.num_gpu_blocks,
    )
    return view


@dataclass(frozen=True, slots=True)
class Choice:
    state: EndpointState | None
    result: PickResult
    request: PickRequest


class EndpointPicker:
    __slots__ = ("_turn", "config", "detector", "index", "kind", "name", "profile", "wants_prefix")

    def __init__(self, config: PickingConfig, engine: str) -> None:
        self.name = profile_name(config, engine)
        self.config = profile_config(config, self.name)
        self.index = PrefixIndex(block_size=BLOCK_TOKENS, max_bytes=config.prefix_index_max_bytes)
        self.profile = Profile(self.config, self.index)
        self.detector = SaturationDetector(self.config.limits, self.config.signal_max_age_s)
        plain = self.name == "least-request" and config.scorers is None and config.picker is None
        #: round-robin and random, the plain least-request fast path, or the full profile pipeline
        self.kind = self.name if self.name in ("round-robin", "random") else "least" if plain else "profile"
        self._turn = 0
        #: whether requests need their prompt hashed (a prefix-aware profile)
        self.wants_prefix = self.kind == "profile" and (
            self.config.affinity_ratio is not None
            or any(name == "prefix" and weight > 0 for name, weight in self.config.scorers)
        )

    def sync(self, states: Sequence[EndpointState]) -> None:
        """Follow a new endpoint set or KV geometry: size and trim the prefix index."""
        self.index.sync(view_of(s) for s in states)

    def choose(
        self,
        states: Sequence[EndpointState],
        request: PickRequest | None,
        now: float,
        rng: random.Random,
        by_id: Mapping[str, EndpointState],
    ) -> Choice:
        """The choice among ``states`` (already filtered by the pool for health, breaker, capacity);
        ``by_id`` finds the state of the chosen endpoint id."""
        req = request or NO_REQUEST
        if self.kind != "profile":
            awake = [s for s in states if not s.signals.sleeping]
            if not awake:
                return Choice(None, PickResult(None, empty_after="sleeping"), req)
            if self.kind == "least":
                state = (
                    awake[0] if len(awake) == 1 else least_loaded(awake, [s.in_flight for s in awake], rng)
                )
            elif self.kind == "random":
                state = awake[rng.randrange(len(awake))]
            else:
                self._turn += 1
                state = awake[self._turn % len(awake)]
            return Choice(state, PickResult(state.endpoint.id), req)
        result = self.profile.pick([view_of(s) for s in states], req, now, rng)
        chosen = by_id.get(result.endpoint_id) if result.endpoint_id is not None else None
        return Choice(chosen, result, req)

    def uncached_tokens(self, choice: Choice) -> int:
        """The prompt tokens the chosen endpoint still has to prefill, as far as the index knows."""
        cached = choice.result.matched_blocks * self.index.block_size
        return max(0, choice.request.prompt_tokens - cached)

    def record(self, choice: Choice) -> None:
        """The request was sent: the endpoint will hold its prefix."""
        if choice.state is not None and choice.request.prompt_hashes:
            self.index.record(choice.state.endpoint.id, choice.request.prompt_hashes)

    def saturation(
        self, states: Sequence[EndpointState], request: PickRequest | None, now: float
    ) -> PoolSaturation:
        if self._has_room(states, now):  # the common case, without building views
            return PoolSaturation(False, len(states), 0, 0.0)
        return self.detector.check([view_of(s) for s in states], request or NO_REQUEST, now)

    def _has_room(self, states: Sequence[EndpointState], now: float) -> bool:
        """Some awake endpoint is clearly under every limit (stale signals count as unknown)."""
        limits = self.detector.limits
        tokens = limits.max_in_flight_tokens or 0
        queue, kv = limits.max_queue_depth or 0, limits.max_kv_usage or 0.0
        cutoff = now - self.detector.max_age
        for state in states:
            s = state.signals
            if s.sleeping or (tokens and state.in_flight_tokens >= tokens):
                continue
            if s.at is None or s.at < cutoff:
                return True
            if (not queue or s.queue_depth is None or s.queue_depth < queue) and (
                not kv or s.kv_usage is None or s.kv_usage < kv
            ):
                return True
        return False
