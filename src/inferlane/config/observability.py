"""Config sections for metrics and tracing (``metrics:``, ``tracing:``). Documented in docs/configuration.md.

Same strict rules as ``schema.Section`` (camelCase, unknown keys rejected, frozen); kept in its own module so
the schema only gains the two field lines.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration

PositiveInt = Annotated[int, Field(ge=1)]
Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


class TenantLabelConfig(_Section):
    enabled: bool = False
    #: request header naming the tenant, used when no stage set one (auth keys set it first)
    header: str = "x-tenant-id"
    #: distinct tenant values kept as labels; later ones are counted as ``other``
    max_values: PositiveInt = 50


class MetricsConfig(_Section):
    #: ask OpenAI-compatible upstreams for usage on streams; strip the extra event if the client did not ask
    stream_usage: bool = True
    #: distinct ``model`` label values kept; later ones are counted as ``other`` (clients choose model names)
    max_models: PositiveInt = 100
    tenant_label: TenantLabelConfig = TenantLabelConfig()


class TracingConfig(_Section):
    enabled: bool = False
    #: OTLP/HTTP traces endpoint (protobuf), e.g. an OpenTelemetry Collector's ``:4318/v1/traces``
    endpoint: str = "http://localhost:4318/v1/traces"
    #: share of new traces recorded; a sampled incoming ``traceparent`` is always followed
    sample_ratio: Annotated[float, Field(ge=0, le=1)] = 0.1
    service_name: str = "inferlane"
    #: extra export request headers (e.g. an auth token via ``${VAR}``)
    headers: dict[str, str] = Field(default_factory=dict)
    export_timeout: Annotated[Duration, Field(gt=0)] = 10.0
    #: how often pending spans are sent when fewer than a batch (512) are waiting; OpenTelemetry's
    #: BatchSpanProcessor default (``OTEL_BSP_SCHEDULE_DELAY``)
    export_interval: Annotated[Duration, Field(gt=0)] = 5.0
