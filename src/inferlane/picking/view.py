"""What picking knows about one endpoint at one moment, and about the request being placed.

Views are built by the async shell from the endpoint snapshot and the load signals; picking only reads
them. Two kinds of signals meet here:

* in-proxy counters (``in_flight``, ``in_flight_tokens``): exact and always current;
* scraped or header-borne signals (``queue_depth``, ``kv_usage`` and the LoRA state), stamped with
  ``signals_at``; picking trusts them only while they are younger than a staleness bound.

``in_flight_tokens`` is the prefill work the proxy has sent and not yet seen answered: prompt tokens of
requests still waiting for their first token (the shell may count only the uncached part). It is what
the "sticky until saturated" gate compares with prefill throughput × TTFT budget.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointView:
    id: str
    healthy: bool = True
    sleeping: bool = False
    #: model names the endpoint lists (base models and adapters); empty means "not discovered": serves all
    models: frozenset[str] = frozenset()
    loras_loaded: frozenset[str] = frozenset()
    loras_waiting: frozenset[str] = frozenset()
    max_loras: int | None = None
    in_flight: int = 0
    in_flight_tokens: int = 0
    queue_depth: int | None = None
    #: KV-cache usage, 0..1
    kv_usage: float | None = None
    #: when queue_depth, kv_usage and the LoRA state were observed; None: never
    signals_at: float | None = None
    block_size: int = 16
    num_gpu_blocks: int | None = None

    @property
    def has_signals(self) -> bool:
        return (
            self.queue_depth is not None
            or self.kv_usage is not None
            or self.max_loras is not None
            or bool(self.loras_loaded)
            or bool(self.loras_waiting)
        )

    def without_signals(self) -> EndpointView:
        """This view with only the in-proxy counters and static facts (used when signals are stale)."""
        if not self.has_signals and self.signals_at is None:
            return self
        return EndpointView(
            id=self.id,
            healthy=self.healthy,
            sleeping=self.sleeping,
            models=self.models,
            in_flight=self.in_flight,
            in_flight_tokens=self.in_flight_tokens,
            block_size=self.block_size,
            num_gpu_blocks=self.num_gpu_blocks,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PickRequest:
    #: the base model the request is for
    model: str
    #: the LoRA adapter it names, if any
    lora: str | None = None
    #: chained block hashes of the prompt (see ``prefix_index.block_hashes``), seeded per model/adapter
    prompt_hashes: tuple[int, ...] = ()
    prompt_tokens: int = 0
    #: session key (e.g. the ``x-session-id`` header), for session affinity
    session: str | None = None
