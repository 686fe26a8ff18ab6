"""Filters: which endpoints may take a request at all. Each keeps the order of its input.

Staleness (a deliberate choice): scraped signals older than the bound are *ignored*, not feared. The
view is reduced to what the proxy itself knows (in-flight requests and tokens), so a replica whose
``/metrics`` went quiet neither keeps attracting load on an old "idle" reading nor gets shut out as if
saturated. llm-d instead counts stale endpoints as 100% saturated (fail-closed), which halts dispatch
during a fleet-wide scrape outage; the in-proxy counters are always there and good enough to balance on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from inferlane.picking.view import EndpointView, PickRequest


@dataclass(frozen=True, slots=True)
class SaturationLimits:
    """When an endpoint counts as saturated; a limit of None is not checked."""

    #: in-flight prompt tokens (prefill throughput × TTFT budget)
    max_in_flight_tokens: int | None = None
    max_queue_depth: int | None = 5
    max_kv_usage: float | None = 0.8

    def ratio(self, view: EndpointView) -> float:
        """How full the endpoint is against its tightest limit; ≥ 1 means saturated."""
        ratio = 0.0
        if self.max_in_flight_tokens:
            ratio = view.in_flight_tokens / self.max_in_flight_tokens
        if self.max_queue_depth and view.queue_depth is not None:
            ratio = max(ratio, view.queue_depth / self.max_queue_depth)
        if self.max_kv_usage and view.kv_usage is not None:
            ratio = max(ratio, view.kv_usage / self.max_kv_usage)
        return ratio


def excluding(views: Sequence[EndpointView], exclude: Collection[str]) -> list[EndpointView]:
    """Endpoints not tried yet by this request; all of them when every one was tried (soft)."""
    if not exclude:
        return list(views)
    kept = [v for v in views if v.id not in exclude]
    return kept or list(views)


def healthy(views: Sequence[EndpointView]) -> list[EndpointView]:
    return [v for v in views if v.healthy]


def awake(views: Sequence[EndpointView]) -> list[EndpointView]:
    return [v for v in views if not v.sleeping]


def ready(views: Sequence[EndpointView]) -> list[EndpointView]:
    """Healthy and awake (``healthy`` and ``awake`` in one pass)."""
    return [v for v in views if v.healthy and not v.sleeping]


def serving(views: Sequence[EndpointView], request: PickRequest) -> list[EndpointView]:
    """Endpoints that serve the model and, for an adapter request, list the adapter.

    An endpoint with an empty ``models`` set has not been discovered yet and is assumed to serve all. When no
    discovered endpoint lists the adapter, every endpoint serving the base model stays (vLLM may load it on
    demand).
    """
    model = request.model
    base = [v for v in views if not v.models or model in v.models]
    lora = request.lora
    if lora is None:
        return base
    listed = [
        v
        for v in base
        if not v.models or lora in v.models or lora in v.loras_loaded or lora in v.loras_waiting
    ]
    return listed if any(v.models for v in listed) else base


def fresh_signals(views: Sequence[EndpointView], now: float, max_age: float) -> list[EndpointView]:
    """The views, with signals older than ``max_age`` (or undated) dropped; see the module note."""
    cutoff = now - max_age
    return [v if v.signals_at is not None and v.signals_at >= cutoff else v.without_signals() for v in views]


def not_saturated(views: Sequence[EndpointView], limits: SaturationLimits) -> tuple[list[EndpointView], bool]:
    """Endpoints under every limit, and False; when all are saturated, all of them and True (fail-open)."""
    tokens = limits.max_in_flight_tokens or 0
    queue = limits.max_queue_depth or 0
    kv = limits.max_kv_usage or 0.0
    kept = [
        v
        for v in views
        if (not tokens or v.in_flight_tokens < tokens)
        and (not queue or v.queue_depth is None or v.queue_depth < queue)
        and (not kv or v.kv_usage is None or v.kv_usage < kv)
    ]
    if kept or not views:
        return kept, False
    return list(views), True


@dataclass(frozen=True, slots=True)
class PrefixAffinity:
    """Keep the warm endpoints: those holding at least ``ratio`` of the longest cached prefix among the
    candidates, when that prefix is at least ``min_blocks`` long; otherwise keep everyone."""

    ratio: float = 0.8
    min_blocks: int = 16

    def __call__(self, views: list[EndpointView], matches: Mapping[str, int]) -> list[EndpointView]:
        if not matches:
            return views
        best = 0
        for v in views:
            m = matches.get(v.id, 0)
            if m > best:
                best = m
        if best < self.min_blocks or best == 0:
            return views
        floor = max(self.min_blocks, self.ratio * best)
        return [v for v in views if matches.get(v.id, 0) >= floor]
