"""Config of endpoint picking, load signals, DNS discovery and admission (docs/routing.md).

``backends[].picking`` chooses the picking profile and its tunables, ``backends[].loadSignals`` how the proxy
learns each endpoint's load, ``backends[].discovery`` where endpoints come from besides the static list, and
the top-level ``admission`` section criticality, queueing and shedding.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration, parse_size

# the same building blocks as config/schema.py (which imports this module, so it cannot be imported here)
Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
PositiveInt = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


ProfileName = Literal[
    "sticky-until-saturated", "least-request", "round-robin", "random", "power-of-two", "prefix-blend"
]
ScorerName = Literal["prefix", "in-flight-tokens", "in-flight", "queue", "kv-cache", "lora", "session"]
Criticality = Literal["critical", "standard", "sheddable"]
#: engines whose endpoints are LLM servers: they get the sticky profile and load signals by default
LLM_ENGINES = frozenset({"vllm", "sglang", "tgi", "triton"})


class PickingConfig(Section):
    #: unset: ``sticky-until-saturated`` for LLM engines (vllm, sglang, tgi, triton), ``least-request`` else
    profile: ProfileName | None = None
    prefill_tokens_per_s: Annotated[float, Field(gt=0)] = 20_000.0
    ttft_budget: Annotated[Duration, Field(gt=0)] = 2.0
    max_queue_depth: Annotated[int, Field(ge=1)] | None = 5
    max_kv_usage: Annotated[float, Field(gt=0, le=1)] | None = 0.8
    signal_max_age: Annotated[Duration, Field(gt=0)] = 1.0
    affinity_ratio: Annotated[float, Field(gt=0, le=1)] | None = 0.8
    min_match_tokens: Annotated[int, Field(ge=1)] = 256
    #: weights by scorer name; unset keeps the profile's own weights
    scorers: dict[ScorerName, Annotated[float, Field(ge=0)]] | None = None
    picker: Literal["max-score", "weighted-random", "power-of-two"] | None = None
    prefix_index_max_bytes: Annotated[Size, Field(ge=4096)] = 64 * 1024 * 1024
    #: longest prompt head hashed for prefix affinity (bounds the per-request hashing cost)
    max_prefix_bytes: Annotated[Size, Field(ge=64)] = 512 * 1024
    session_header: str = "x-session-id"


class LoadSignalsConfig(Section):
    #: ask for vLLM's ORCA ``endpoint-load-metrics`` header on every request and read it from responses;
    #: unset: on for LLM engines
    orca: bool | None = None
    #: scrape each endpoint's metrics page; unset: on for LLM engines
    scrape: bool | None = None
    #: unset: ``/metrics`` (``/prometheus/metrics`` with ``flavor: trtllm``)
    metrics_path: str | None = None
    flavor: Literal["auto", "vllm", "sglang", "tgi", "trtllm", "triton"] = "auto"
    interval: Annotated[Duration, Field(gt=0)] = 0.1
    timeout: Annotated[Duration, Field(gt=0)] = 1.0
    max_concurrency: PositiveInt = 16


class DnsDiscoveryConfig(Section):
    #: ``host:port`` (A/AAAA) or ``_service._proto.name`` (SRV)
    name: Annotated[str, Field(min_length=1)]
    type: Literal["A", "AAAA", "A+AAAA", "SRV"] = "A+AAAA"
    #: port for A/AAAA answers (SRV answers carry their own)
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    scheme: Literal["http", "https"] = "http"
    interval: Annotated[Duration, Field(gt=0)] = 10.0
    #: re-resolve no later than the record TTL, but not more often than this
    min_interval: Annotated[Duration, Field(gt=0)] = 1.0
    timeout: Annotated[Duration, Field(gt=0)] = 2.0
    #: DNS servers as ``ip`` or ``ip:port``; empty: the system's resolv.conf
    nameservers: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _port_for_addresses(self) -> Self:
        if self.type != "SRV" and self.port is None:
            raise ValueError(f"'port' is required for {self.type} records (SRV answers carry their own)")
        return self


class DiscoveryConfig(Section):
    dns: DnsDiscoveryConfig | None = None


class AdmissionConfig(Section):
    enabled: bool = True
    default_criticality: Criticality = "standard"
    #: criticality by model name (as the client sent it)
    models: dict[str, Criticality] = Field(default_factory=dict)
    #: criticality by tenant
    tenants: dict[str, Criticality] = Field(default_factory=dict)
    max_queue_size: Annotated[int, Field(ge=0)] = 1024
    queue_timeout: Annotated[Duration, Field(gt=0)] = 30.0
    retry_after: Annotated[Duration, Field(gt=0)] = 1.0
    #: round-robin between tenants within a priority band
    tenant_fairness: bool = False
