"""The strict configuration schema. camelCase keys, unknown keys rejected, every key with a default.

Pydantic is used here only, at the edge; the rest of the code reads these frozen models or the frozen
dataclasses built from them. Documented key by key in docs/configuration.md.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.batching import BatchingConfig, BatchProtocol
from inferlane.config.models import ModelConfig, ModelSourceConfig, model_problems
from inferlane.config.observability import MetricsConfig, TracingConfig
from inferlane.config.picking import AdmissionConfig, DiscoveryConfig, LoadSignalsConfig, PickingConfig
from inferlane.config.rollouts import RolloutConfig, rollout_problems
from inferlane.config.routes import (
    BodyMatch,
    HeaderMatch,
    PromptTokens,
    RouteRewrite,
    TokenizerConfig,
    Translate,
    route_problems,
)
from inferlane.config.units import parse_duration, parse_size

Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
PositiveInt = Annotated[int, Field(ge=1)]
Port = Annotated[int, Field(ge=0, le=65535)]


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
    )


class ServerConfig(Section):
    host: str = "0.0.0.0"
    port: Port = 15001
    admin_host: str = "0.0.0.0"
    admin_port: Port = 15020
    read_timeout: Duration = 30.0
    write_timeout: Duration = 120.0
    keepalive_timeout: Duration = 75.0
    max_body_size: Size = 10 * 1024 * 1024
    max_header_size: Size = 16 * 1024
    max_concurrent_requests: PositiveInt = 4096
    drain_delay: Duration = 5.0
    drain_timeout: Duration = 30.0


class AdminConfig(Section):
    token: str | None = None


class RetryBackoffConfig(Section):
    base_interval: Duration = 0.025
    max_interval: Duration = 0.25


class RetryBudgetConfig(Section):
    retry_ratio: Annotated[float, Field(ge=0, le=1)] = 0.2
    min_retries_per_second: Annotated[float, Field(ge=0)] = 5.0
    ttl: Annotated[Duration, Field(gt=0)] = 10.0


RETRY_ON_CONDITIONS = frozenset(
    {"5xx", "gateway-error", "reset", "connect-failure", "retriable-status-codes", "timeout"}
)


class RetryConfig(Section):
    attempts: Annotated[int, Field(ge=0, le=10)] = 2
    per_try_timeout: Duration | None = None
    retry_on: str = "gateway-error,reset,connect-failure,retriable-status-codes"
    retriable_status_codes: list[Annotated[int, Field(ge=400, le=599)]] = Field(
        default_factory=lambda: [429, 503]
    )
    backoff: RetryBackoffConfig = RetryBackoffConfig()
    budget: RetryBudgetConfig = RetryBudgetConfig()

    @model_validator(mode="after")
    def _known_conditions(self) -> Self:
        unknown = set(self.conditions) - RETRY_ON_CONDITIONS
        if unknown:
            known = ", ".join(sorted(RETRY_ON_CONDITIONS))
            raise ValueError(f"retryOn: unknown condition(s) {', '.join(sorted(unknown))}; known: {known}")
        return self

    @property
    def conditions(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.retry_on.split(",") if part.strip())


class CircuitBreakerConfig(Section):
    enabled: bool = True
    failure_threshold: PositiveInt = 5
    recovery_timeout: Duration = 30.0
    half_open_requests: PositiveInt = 3


class HealthCheckConfig(Section):
    enabled: bool = True
    endpoint: str = "/health"
    interval: Duration = 10.0
    timeout: Duration = 2.0
    unhealthy_threshold: PositiveInt = 3
    healthy_threshold: PositiveInt = 1


class OutlierDetectionConfig(Section):
    enabled: bool = True
    consecutive_5xx: PositiveInt = Field(default=5, alias="consecutive5xx")
    consecutive_local_origin_failures: PositiveInt = 5
    base_ejection_time: Duration = 30.0
    max_ejection_time: Duration = 300.0
    max_ejection_percent: Annotated[int, Field(ge=0, le=100)] = 50


class ConnectionPoolConfig(Section):
    max_connections: PositiveInt = 1024
    max_pending_requests: Annotated[int, Field(ge=0)] = 1024
    max_requests: PositiveInt = 1024
    idle_timeout: Duration = 60.0


class TimeoutsConfig(Section):
    connect: Duration = 5.0
    first_byte: Duration | None = None
    idle: Duration = 60.0
    total: Duration | None = None


Engine = Literal["vllm", "sglang", "tgi", "tei", "triton", "tfserving", "kserve", "openai", "generic"]


class BackendConfig(Section):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")]
    endpoints: Annotated[list[str], Field(min_length=1)]
    engine: Engine = "generic"
    connection_pool: ConnectionPoolConfig = ConnectionPoolConfig()
    timeouts: TimeoutsConfig = TimeoutsConfig()
    health_check: HealthCheckConfig | None = None
    outlier_detection: OutlierDetectionConfig = OutlierDetectionConfig()
    circuit_breaker: CircuitBreakerConfig | None = None
    # --- endpoint picking, load signals, discovery ---
    picking: PickingConfig = PickingConfig()
    load_signals: LoadSignalsConfig = LoadSignalsConfig()
    discovery: DiscoveryConfig = DiscoveryConfig()


class RouteConfig(Section):
    """One entry of ``routing.endpoints`` (the seed's name): a path and where it goes."""

    name: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    #: the seed's label for the model served on this path (metrics, logs); not a match condition
    model: str | None = None
    #: match only requests whose body names one of these models (``*`` wildcards allowed)
    models: list[str] = Field(default_factory=list)
    backend: str | None = None
    batch_enabled: bool = False
    max_batch_size: PositiveInt | None = None
    #: the wire format to merge (default: told by the path); issue 7
    batch_protocol: BatchProtocol | None = None
    timeout: Duration | None = None
    retry: RetryConfig | None = None
    # --- more match conditions, rewrites, translation (config/routes.py) ---
    methods: list[Annotated[str, Field(pattern=r"^[A-Za-z]+$")]] = Field(default_factory=list)
    headers: dict[str, HeaderMatch] = Field(default_factory=dict)
    body: dict[str, BodyMatch] = Field(default_factory=dict)
    prompt_tokens: PromptTokens | None = None
    rewrite: RouteRewrite | None = None
    translate: Translate | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> Self:
        if self.path is not None and self.path_prefix is not None:
            raise ValueError("set at most one of 'path' (exact match) or 'pathPrefix'")
        for value in (self.path, self.path_prefix):
            if value is not None and not value.startswith("/"):
                raise ValueError(f"paths start with '/', got {value!r}")
        return self

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.path:
            return self.path
        return f"{self.path_prefix}*" if self.path_prefix is not None else "*"


class RoutingConfig(Section):
    default_endpoint: str | None = None
    default_backend: str | None = None
    endpoints: list[RouteConfig] = Field(default_factory=list)
    #: local tokenizer.json files for prompt-token routing (config/routes.py)
    tokenizers: list[TokenizerConfig] = Field(default_factory=list)


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "text"] = "json"
    access_log: bool = True
    #: log request/response bodies (truncated) in the access log; a warning is logged at startup
    debug_bodies: bool = False


class ProxyConfig(Section):
    server: ServerConfig = ServerConfig()
    admin: AdminConfig = AdminConfig()
    batching: BatchingConfig = BatchingConfig()
    routing: RoutingConfig = RoutingConfig()
    backends: list[BackendConfig] = Field(default_factory=list)
    retry: RetryConfig = RetryConfig()
    circuit_breaker: CircuitBreakerConfig = CircuitBreakerConfig()
    health_check: HealthCheckConfig = HealthCheckConfig()
    logging: LoggingConfig = LoggingConfig()
    # --- observability sections ---
    metrics: MetricsConfig = MetricsConfig()
    tracing: TracingConfig = TracingConfig()
    # --- the model registry (config/models.py) ---
    models: list[ModelConfig] = Field(default_factory=list)
    model_sources: list[ModelSourceConfig] = Field(default_factory=list)
    rollouts: list[RolloutConfig] = Field(default_factory=list)
    # --- admission control ---
    admission: AdmissionConfig = AdmissionConfig()

    @model_validator(mode="after")
    def _references(self) -> Self:
        """Cross-references; every problem is reported, one per line (the loader maps each to its key)."""
        problems = []
        names = [backend.name for backend in self.backends]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"backends: duplicate name(s) {', '.join(duplicates)}")
        if self.routing.default_endpoint and "default" in names:
            problems.append("routing.defaultEndpoint: it creates the backend 'default'; rename that backend")
        known = set(names) | ({"default"} if self.routing.default_endpoint else set())
        if self.routing.default_backend and self.routing.default_backend not in known:
            problems.append(f"routing.defaultBackend: unknown backend {self.routing.default_backend!r}")
        for i, route in enumerate(self.routing.endpoints):
            if route.backend is not None and route.backend not in known:
                problems.append(f"routing.endpoints[{i}].backend: unknown backend {route.backend!r}")
        problems.extend(route_problems(self))
        if not self.model_sources:  # with files, checked once they are read (config/model_sources.py)
            problems.extend(model_problems(self))
        problems.extend(rollout_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def default_backend_name(self) -> str | None:
        if self.routing.default_backend:
            return self.routing.default_backend
        if self.routing.default_endpoint:
            return "default"
        return self.backends[0].name if len(self.backends) == 1 else None

    def all_backends(self) -> list[BackendConfig]:
        """Declared backends plus the implicit ``default`` one made from ``routing.defaultEndpoint``."""
        backends = list(self.backends)
        if self.routing.default_endpoint:
            backends.append(BackendConfig(name="default", endpoints=[self.routing.default_endpoint]))
        return backends
