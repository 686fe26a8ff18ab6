"""Scorers: how good each candidate is for a request, in [0, 1], higher is better.

A scorer returns one score per candidate, in order, or None when it has no preference (every candidate
would score the same); the profile then skips it. Unknown signals (stale or never scraped) score neutral
(0.5, or the mean of the known scores), so they neither attract nor repel load; the in-proxy load scorers
still see every endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from inferlane.picking.prefix_index import stable_hash
from inferlane.picking.view import EndpointView, PickRequest

NEUTRAL = 0.5
_MASK = (1 << 64) - 1
#: LoRA affinity levels: adapter loaded > room to load it > adapter waiting for a slot > no room
LORA_LOADED, LORA_ROOM, LORA_WAITING, LORA_FULL = 1.0, 0.8, 0.6, 0.0


@dataclass(frozen=True, slots=True)
class ScoreContext:
    """What one pick computed once and shares with every scorer."""

    now: float
    #: endpoint id -> leading prompt blocks it holds (from the prefix index)
    matches: Mapping[str, int]


Scorer = Callable[[Sequence[EndpointView], PickRequest, ScoreContext], "list[float] | None"]


def _least_is_best(values: Sequence[float]) -> list[float] | None:
    """Min-max normalised, the smallest value scoring 1 and the largest 0; None when all are equal."""
    lo, hi = min(values), max(values)
    if hi == lo:
        return None
    span = hi - lo
    return [(hi - x) / span for x in values]


def in_flight_tokens(
    views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext
) -> list[float] | None:
    """Least in-flight prompt tokens (the proxy's own count, always fresh)."""
    return _least_is_best([v.in_flight_tokens for v in views])


def in_flight_requests(
    views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext
) -> list[float] | None:
    """Least in-flight requests (the proxy's own count, always fresh)."""
    return _least_is_best([v.in_flight for v in views])


def queue_depth(views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext) -> list[float] | None:
    """Shortest model-server waiting queue, min-max over the candidates that report one; the others get
    the mean of those scores."""
    known = [v.queue_depth for v in views if v.queue_depth is not None]
    if not known:
        return None
    lo, hi = min(known), max(known)
    if hi == lo:
        return None
    span = hi - lo
    neutral = (hi * len(known) - sum(known)) / span / len(known)
    return [neutral if v.queue_depth is None else (hi - v.queue_depth) / span for v in views]


def kv_cache(views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext) -> list[float] | None:
    """Most free KV cache: ``1 − usage``."""
    if all(v.kv_usage is None for v in views):
        return None
    return [NEUTRAL if v.kv_usage is None else min(1.0, max(0.0, 1.0 - v.kv_usage)) for v in views]


def prefix(views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext) -> list[float] | None:
    """Share of the prompt's blocks already cached on the endpoint (as far as the prefix index knows)."""
    matches, total = ctx.matches, len(request.prompt_hashes)
    if not matches or not total:
        return None
    return [matches.get(v.id, 0) / total for v in views]


def lora_level(view: EndpointView, lora: str) -> float:
    if lora in view.loras_loaded:
        return LORA_LOADED
    if view.max_loras is None or len(view.loras_loaded) < view.max_loras:
        return LORA_ROOM
    if lora in view.loras_waiting:
        return LORA_WAITING
    return LORA_FULL


def lora(views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext) -> list[float] | None:
    """Adapter affinity: loaded (1.0) > room to load (0.8) > waiting for a slot (0.6) > full (0)."""
    if request.lora is None:
        return None
    return [lora_level(v, request.lora) for v in views]


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit value from a 64-bit key."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class SessionAffinity:
    """Rendezvous hashing of the session key over the candidates: the winner scores 1, the rest 0.

    When the winner drops out (unhealthy, saturated), the next in the session's rendezvous order wins, and
    every proxy replica agrees on the order (the hashes are process-independent).
    """

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def __call__(
        self, views: Sequence[EndpointView], request: PickRequest, ctx: ScoreContext
    ) -> list[float] | None:
        if request.session is None or len(views) < 2:
            return None
        key = stable_hash(request.session)
        ids = self._ids
        if len(ids) > 4096:
            ids.clear()
        best, best_at = -1, 0
        for i, v in enumerate(views):
            eh = ids.get(v.id)
            if eh is None:
                eh = ids[v.id] = stable_hash(v.id)
            weight = _mix(key ^ eh)
            if weight > best:
                best, best_at = weight, i
        scores = [0.0] * len(views)
        scores[best_at] = 1.0
        return scores


def make_scorer(name: str) -> Scorer:
    """The scorer registered under ``name`` (as written in a profile's config)."""
    match name:
        case "prefix":
            return prefix
        case "in-flight-tokens":
            return in_flight_tokens
        case "in-flight":
            return in_flight_requests
        case "queue":
            return queue_depth
        case "kv-cache":
            return kv_cache
        case "lora":
            return lora
        case "session":
            return SessionAffinity()
    raise ValueError(
        f"unknown scorer {name!r} "
        "(known: prefix, in-flight-tokens, in-flight, queue, kv-cache, lora, session)"
    )
