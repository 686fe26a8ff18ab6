"""A picking profile: filters → weighted scorers → picker, built from a small frozen config.

The default profile, **sticky until saturated**: a request goes to a replica that already holds (most of)
its prompt prefix as long as that is the fastest way to its first token, and as long as that replica's
pending prefill work (in-flight uncached prompt tokens) stays under ``prefill_tokens_per_s × ttft_budget_s``
and its scraped queue and KV usage stay under their limits. Saturated replicas are filtered out first; then
the **TTFT gate** keeps only the replicas whose estimated prefill wait — pending prefill tokens + this
prompt's tokens not cached there (+ a full prefill when its LoRA adapter has no slot) — is within
``gate_slack_tokens`` of the best. So a warm replica keeps its prefix while the queue in front of it is
shorter than the prefill the cache saves, and a hot prefix spills to the next best replica, which then
warms up too, instead of piling a whole TTFT budget of queueing onto one replica; cold prompts go to the
replica with the least pending prefill. When every replica is saturated the saturation filter fails
open, and the ``SaturationDetector`` tells admission control that the pool is saturated.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from inferlane.picking import filters
from inferlane.picking.filters import PrefixAffinity, SaturationLimits
from inferlane.picking.pickers import make_picker
from inferlane.picking.prefix_index import PrefixIndex
from inferlane.picking.scorers import LORA_ROOM, ScoreContext, Scorer, lora_level, make_scorer
from inferlane.picking.view import EndpointView, PickRequest

#: The load scorers are min-max normalised, so together they swing by up to 5; a loaded adapter (1.0 vs 0.8
#: for "room to load") must outweigh that, or adapters would churn between replicas: LoRA gets 10.
DEFAULT_SCORERS: tuple[tuple[str, float], ...] = (
    ("prefix", 3.0),
    ("in-flight-tokens", 2.0),
    ("in-flight", 1.0),
    ("queue", 1.0),
    ("kv-cache", 1.0),
    ("lora", 10.0),
    ("session", 1.0),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileConfig:
    name: str = "sticky-until-saturated"
    #: measured prefill throughput of one replica, tokens/s
    prefill_tokens_per_s: float = 20_000.0
    #: how much TTFT a request may lose by queueing behind prefill work on a warm replica, seconds
    ttft_budget_s: float = 2.0
    max_queue_depth: int | None = 5
    max_kv_usage: float | None = 0.8
    #: scraped signals older than this are ignored (see ``filters``)
    signal_max_age_s: float = 1.0
    saturation_filter: bool = True
    #: keep endpoints holding ≥ this share of the best cached prefix; None turns stickiness off
    affinity_ratio: float | None = 0.8
    #: a cached prefix shorter than this does not make an endpoint sticky
    min_match_tokens: int = 256
    scorers: tuple[tuple[str, float], ...] = DEFAULT_SCORERS
    picker: str = "max-score"
    #: keep only the candidates whose estimated prefill wait is within ``gate_slack_tokens`` of the best
    ttft_gate: bool = True
    gate_slack_tokens: int = 64

    def __post_init__(self) -> None:
        if self.prefill_tokens_per_s <= 0 or self.ttft_budget_s <= 0 or self.signal_max_age_s <= 0:
            raise ValueError("prefill throughput, TTFT budget and signal age bound must be positive")
        if self.affinity_ratio is not None and not 0 < self.affinity_ratio <= 1:
            raise ValueError(f"affinity ratio must be in (0, 1], got {self.affinity_ratio}")
        if any(weight < 0 for _, weight in self.scorers):
            raise ValueError("scorer weights must not be negative")

    @property
    def limits(self) -> SaturationLimits:
        return SaturationLimits(
            max_in_flight_tokens=max(1, int(self.prefill_tokens_per_s * self.ttft_budget_s)),
            max_queue_depth=self.max_queue_depth,
            max_kv_usage=self.max_kv_usage,
        )


def preset(name: str) -> ProfileConfig:
    """Built-in profiles: the default, a least-request baseline, and llm-d's older prefix blend."""
    match name:
        case "sticky-until-saturated":
            return ProfileConfig()
        case "least-request":
            return ProfileConfig(
                name=name,
                saturation_filter=False,
                affinity_ratio=None,
                ttft_gate=False,
                scorers=(("in-flight", 1.0),),
            )
        case "prefix-blend":
            scorers = (("prefix", 3.0), ("queue", 2.0), ("kv-cache", 2.0))
            return ProfileConfig(
                name=name, saturation_filter=False, affinity_ratio=None, ttft_gate=False, scorers=scorers
            )
    raise ValueError(f"unknown profile {name!r} (known: sticky-until-saturated, least-request, prefix-blend)")


@dataclass(frozen=True, slots=True)
class PickResult:
    #: None when no endpoint can take the request; ``empty_after`` names the filter that emptied the set
    endpoint_id: str | None
    #: weighted total score per remaining candidate (for debugging headers)
    scores: dict[str, float] = field(default_factory=dict)
    #: prompt blocks the chosen endpoint is believed to hold
    matched_blocks: int = 0
    #: the candidates were narrowed to the endpoints holding the prefix
    sticky: bool = False
    #: every candidate was saturated, so the saturation filter let them all through
    fail_open: bool = False
    empty_after: str | None = None


@dataclass(frozen=True, slots=True)
class PoolSaturation:
    saturated: bool
    candidates: int
    saturated_count: int
    #: the least loaded candidate's load against its tightest limit (≥ 1: saturated)
    level: float


class SaturationDetector:
    """Reports a pool saturated when every endpoint that could take the request is over a limit."""

    __slots__ = ("limits", "max_age")

    def __init__(self, limits: SaturationLimits, max_age: float) -> None:
        self.limits = limits
        self.max_age = max_age

    def check(self, views: Sequence[EndpointView], request: PickRequest, now: float) -> PoolSaturation:
        candidates = filters.ready(filters.serving(views, request))
        ratios = [self.limits.ratio(v) for v in filters.fresh_signals(candidates, now, self.max_age)]
        if not ratios:
            return PoolSaturation(False, 0, 0, 0.0)
        over = sum(1 for r in ratios if r >= 1.0)
        return PoolSaturation(over == len(ratios), len(ratios), over, min(ratios))


class Profile:
    __slots__ = ("_affinity", "_limits", "_picker", "_scorers", "config", "detector", "index")

    def __init__(self, config: ProfileConfig, index: PrefixIndex) -> None:
        self.config = config
        self.index = index
        limits = config.limits
        self.detector = SaturationDetector(limits, config.signal_max_age_s)
        self._limits = limits if config.saturation_filter else None
        self._affinity = (
            None
            if config.affinity_ratio is None
            else PrefixAffinity(config.affinity_ratio, -(-config.min_match_tokens // index.block_size))
        )
        self._scorers: tuple[tuple[str, Scorer, float], ...] = tuple(
            (name, make_scorer(name), weight) for name, weight in config.scorers if weight > 0
        )
        self._picker = make_picker(config.picker)

    def pick(
        self,
        views: Sequence[EndpointView],
        request: PickRequest,
        now: float,
        rng: random.Random,
        exclude: Collection[str] = (),
    ) -> PickResult:
        """Choose an endpoint. The caller records the choice in the index (``index.record``) once sent."""
        cands, empty_after = self._eligible(views, request, exclude)
        if not cands:
            return PickResult(None, empty_after=empty_after)
        cands = filters.fresh_signals(cands, now, self.config.signal_max_age_s)
        fail_open = False
        if self._limits is not None:
            cands, fail_open = filters.not_saturated(cands, self._limits)
        matches = self.index.match(request.prompt_hashes) if request.prompt_hashes else {}
        if self.config.ttft_gate and len(cands) > 1:
            cands = self._fastest(cands, request, matches)
        sticky = False
        if self._affinity is not None and matches:
            warm = self._affinity(cands, matches)
            sticky, cands = warm is not cands, warm
        totals = self._totals(cands, request, ScoreContext(now, matches))
        chosen = cands[self._picker(totals, rng) if len(cands) > 1 else 0]
        scores = {v.id: t for v, t in zip(cands, totals, strict=True)}
        return PickResult(chosen.id, scores, matches.get(chosen.id, 0), sticky, fail_open)

    def saturation(self, views: Sequence[EndpointView], request: PickRequest, now: float) -> PoolSaturation:
        return self.detector.check(views, request, now)

    def explain(
        self, views: Sequence[EndpointView], request: PickRequest, now: float
    ) -> dict[str, dict[str, float]]:
        """Each scorer's unweighted scores over the candidates that reach scoring (admin debugging)."""
        cands, _ = self._eligible(views, request, ())
        cands = filters.fresh_signals(cands, now, self.config.signal_max_age_s)
        if self._limits is not None:
            cands, _ = filters.not_saturated(cands, self._limits)
        matches = self.index.match(request.prompt_hashes) if request.prompt_hashes else {}
        if self.config.ttft_gate and len(cands) > 1:
            cands = self._fastest(cands, request, matches)
        if self._affinity is not None and matches:
            cands = self._affinity(cands, matches)
        ctx = ScoreContext(now, matches)
        out: dict[str, dict[str, float]] = {}
        for name, scorer, _ in self._scorers:
            scores = (scorer(cands, request, ctx) if cands else None) or [1.0] * len(cands)
            out[name] = {v.id: s for v, s in zip(cands, scores, strict=True)}
        return out

    def _fastest(
        self, cands: list[EndpointView], request: PickRequest, matches: Mapping[str, int]
    ) -> list[EndpointView]:
        """The candidates whose estimated prefill wait is within the slack of the best one."""
        tokens, block = request.prompt_tokens, self.index.block_size
        if matches:
            saved = {eid: min(tokens, held * block) for eid, held in matches.items()}.get
            waits = [v.in_flight_tokens + tokens - saved(v.id, 0) for v in cands]
        else:
            waits = [v.in_flight_tokens + tokens for v in cands]
        lora = request.lora
        if lora is not None:
            for i, v in enumerate(cands):
                if lora_level(v, lora) < LORA_ROOM:
                    waits[i] += tokens  # no slot for the adapter: it waits about a prefill for one
        limit = min(waits) + self.config.gate_slack_tokens
        return [v for v, w in zip(cands, waits, strict=True) if w <= limit]

    @staticmethod
    def _eligible(
        views: Sequence[EndpointView], request: PickRequest, exclude: Collection[str]
    ) -> tuple[list[EndpointView], str | None]:
        cands = filters.serving(filters.excluding(views, exclude) if exclude else views, request)
        if not cands:
            return cands, "model"
        ready = filters.ready(cands)
        if ready:
            return ready, None
        return ready, "sleeping" if filters.healthy(cands) else "healthy"

    def _totals(self, cands: list[EndpointView], request: PickRequest, ctx: ScoreContext) -> list[float]:
        totals: list[float] | None = None
        for _, scorer, weight in self._scorers:
            scores = scorer(cands, request, ctx)
            if scores is None:
                continue
            if totals is None:
                totals = [weight * s for s in scores]
            else:
                totals = [t + weight * s for t, s in zip(totals, scores, strict=True)]
        return totals if totals is not None else [0.0] * len(cands)
