"""The ``batching`` section: the seed's keys plus what a serious batcher needs (documented in
docs/configuration.md and docs/batching.md).

``from inferlane.config.schema import BatchingConfig`` keeps working: the schema imports it from here.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration

PositiveInt = Annotated[int, Field(ge=1)]
Millis = Annotated[float, Field(ge=0)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
BatchStrategy = Literal["dynamic", "adaptive", "fixed"]
BatchProtocol = Literal[
    "openai-embeddings", "openai-completions", "tei-embed", "tei-rerank", "tfserving", "kserve-v2"
]


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


def _check_waits(min_wait: float | None, max_wait: float | None, where: str) -> None:
    if min_wait is not None and max_wait is not None and min_wait > max_wait:
        raise ValueError(f"{where}minWaitTimeMs ({min_wait:g}) cannot exceed maxWaitTimeMs ({max_wait:g})")


class BatchModelOverride(_Section):
    """Per-model settings: the first entry whose ``name`` pattern matches the request's model wins."""

    name: Annotated[str, Field(min_length=1)]
    enabled: bool = True
    max_batch_size: PositiveInt | None = None
    max_wait_time_ms: Millis | None = None
    min_wait_time_ms: Millis | None = None
    target_batch_size: PositiveInt | None = None
    strategy: BatchStrategy | None = None
    max_concurrent_batches: PositiveInt | None = None
    preferred_batch_sizes: list[PositiveInt] | None = None

    @model_validator(mode="after")
    def _waits(self) -> Self:
        _check_waits(self.min_wait_time_ms, self.max_wait_time_ms, "")
        return self


class BatchingConfig(_Section):
    enabled: bool = False
    max_batch_size: PositiveInt = 32
    max_wait_time_ms: Millis = 50
    max_request_tokens: PositiveInt = 8192
    strategy: BatchStrategy = "dynamic"
    max_concurrent_batches: PositiveInt = 2
    max_queue_size: PositiveInt = 1024
    preferred_batch_sizes: list[PositiveInt] = Field(default_factory=list)
    #: ``strategy: adaptive``: the window never drops below this many milliseconds
    min_wait_time_ms: Millis = 0
    #: ``strategy: adaptive``: the batch size the window aims for (default: the effective maxBatchSize)
    target_batch_size: PositiveInt | None = None
    #: how long a request may wait for its batch's answer (queue + upstream); default: the request deadline
    item_timeout: Duration | None = None
    models: list[BatchModelOverride] = Field(default_factory=list)

    @model_validator(mode="after")
    def _waits(self) -> Self:
        _check_waits(self.min_wait_time_ms, self.max_wait_time_ms, "")
        for override in self.models:
            low = (
                override.min_wait_time_ms if override.min_wait_time_ms is not None else self.min_wait_time_ms
            )
            high = (
                override.max_wait_time_ms if override.max_wait_time_ms is not None else self.max_wait_time_ms
            )
            _check_waits(low, high, f"models[{override.name!r}]: ")
        if self.item_timeout is not None and self.item_timeout <= 0:
            raise ValueError("itemTimeout must be positive")
        return self
