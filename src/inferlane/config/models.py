"""Config sections of the model registry: ``models`` (inline) and ``modelSources`` (ModelVersion files).

A model has a canonical name, aliases (exact names or ``*`` wildcards), versions bound to backends with a
weight and the name the model server knows them by, per-model defaults (max-tokens cap, allowed API
paths), stickiness of the weighted split, a header A/B experiment, a mirror and ordered fallbacks.
Documented key by key in docs/configuration.md ("models", "modelSources") and in docs/models.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.config.units import parse_duration

if TYPE_CHECKING:
    from inferlane.config.schema import ProxyConfig


def _text(value: Any) -> Any:
    """Versions are names: ``version: 2`` and ``version: 2.5`` (YAML numbers) mean the strings."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


class Section(BaseModel):
    """Same rules as ``schema.Section`` (schema.py imports this module, so it cannot be imported here)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveInt = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(min_length=1)]
VersionName = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
StickySource = Annotated[str, Field(pattern=r"^(header|body):[A-Za-z0-9._-]+$")]
FallbackCondition = Literal["5xx", "timeout", "circuit-open", "429", "context-length"]
DEFAULT_FALLBACK_ON: tuple[FallbackCondition, ...] = ("5xx", "timeout", "circuit-open", "429")


class ModelVersionConfig(Section):
    version: VersionName
    #: the backend serving this version; unset: the backend the route chose
    backend: str | None = None
    weight: Annotated[int, Field(ge=0)] = 1
    #: the name the model server knows this version by; the request's ``model`` is rewritten to it
    served_name: str | None = None
    canary: bool = False


class ModelDefaultsConfig(Section):
    #: cap on ``max_tokens`` / ``max_completion_tokens`` (lowered when larger, set when absent on chat)
    max_tokens: PositiveInt | None = None
    #: API paths this model may be called on (empty: any)
    allowed_endpoints: list[Annotated[str, Field(pattern=r"^/")]] = Field(default_factory=list)
    #: backends this model may be served by (empty: any); checked for versions at load, for the route's
    #: backend of an unversioned model per request
    allowed_backends: list[Name] = Field(default_factory=list)


class SplitConfig(Section):
    #: where the sticky key comes from, first present wins: ``header:<name>`` or ``body:<field>``
    sticky_by: list[StickySource] = Field(default_factory=lambda: ["header:x-user-id", "body:user"])


class ExperimentConfig(Section):
    header: Name = "x-experiment"
    #: header value → version
    variants: dict[str, VersionName] = Field(default_factory=dict)


class MirrorConfig(Section):
    percent: Annotated[float, Field(ge=0, le=100)] = 100.0
    #: mirror to this version of the same model …
    version: VersionName | None = None
    #: … or to this backend (the request's model name unchanged)
    backend: str | None = None
    max_concurrent: PositiveInt = 16
    timeout: Duration = 30.0

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.version is None) == (self.backend is None):
            raise ValueError("set exactly one of 'version' or 'backend' as the mirror target")
        return self


class FallbackConfig(Section):
    model: Name
    on: list[FallbackCondition] = Field(default_factory=lambda: list(DEFAULT_FALLBACK_ON))


class ModelConfig(Section):
    name: Name
    aliases: list[Name] = Field(default_factory=list)
    versions: list[ModelVersionConfig] = Field(default_factory=list)
    defaults: ModelDefaultsConfig = ModelDefaultsConfig()
    split: SplitConfig = SplitConfig()
    experiment: ExperimentConfig | None = None
    mirror: MirrorConfig | None = None
    fallbacks: list[FallbackConfig] = Field(default_factory=list)


class ModelSourceConfig(Section):
    #: a YAML file of ModelVersion documents, or a directory of such files (``*.yaml``, ``*.yml``)
    path: Name
    #: ModelVersion ``metadata.name`` → backend; unlisted versions use the backend of that same name
    backends: dict[str, str] = Field(default_factory=dict)
    #: what the model server calls a version: the Hugging Face ``modelId`` (vLLM's default) or ``modelName``
    served_name: Literal["modelId", "modelName"] = "modelId"


def model_problems(config: ProxyConfig) -> list[str]:
    """Cross-references of the registry, one ``path: message`` per problem (see ProxyConfig)."""
    problems: list[str] = []
    backends = {backend.name for backend in config.all_backends()}
    names: dict[str, str] = {}
    for i, model in enumerate(config.models):
        where = f"models[{i}]"
        for j, name in enumerate([model.name, *model.aliases]):
            key = f"{where}.name" if j == 0 else f"{where}.aliases[{j - 1}]"
            if name in names:
                problems.append(f"{key}: {name!r} is already a name of model {names[name]!r}")
            names.setdefault(name, model.name)
        problems.extend(_version_problems(model, where, backends))
    known = {model.name for model in config.models}
    for i, model in enumerate(config.models):
        for k, fallback in enumerate(model.fallbacks):
            if fallback.model not in known or fallback.model == model.name:
                what = "itself" if fallback.model == model.name else f"unknown model {fallback.model!r}"
                problems.append(f"models[{i}].fallbacks[{k}].model: {what}")
    return problems


def _version_problems(model: ModelConfig, where: str, backends: set[str]) -> list[str]:
    problems = []
    versions = [v.version for v in model.versions]
    for j, version in enumerate(model.versions):
        if versions.count(version.version) > 1 and versions.index(version.version) < j:
            problems.append(f"{where}.versions[{j}].version: duplicate version {version.version!r}")
        if version.backend is not None and version.backend not in backends:
            problems.append(f"{where}.versions[{j}].backend: unknown backend {version.backend!r}")
        allowed = model.defaults.allowed_backends
        if version.backend is not None and allowed and version.backend not in allowed:
            problems.append(
                f"{where}.versions[{j}].backend: {version.backend!r} is not in defaults.allowedBackends"
            )
    for k, name in enumerate(model.defaults.allowed_backends):
        if name not in backends:
            problems.append(f"{where}.defaults.allowedBackends[{k}]: unknown backend {name!r}")
    if model.versions and sum(v.weight for v in model.versions) <= 0:
        problems.append(f"{where}.versions: at least one version needs a weight above 0")
    if model.experiment is not None:
        for value, target in model.experiment.variants.items():
            if target not in versions:
                problems.append(f"{where}.experiment.variants: {value!r} names unknown version {target!r}")
    mirror = model.mirror
    if mirror is not None:
        if mirror.version is not None and mirror.version not in versions:
            problems.append(f"{where}.mirror.version: unknown version {mirror.version!r}")
        if mirror.backend is not None and mirror.backend not in backends:
            problems.append(f"{where}.mirror.backend: unknown backend {mirror.backend!r}")
    return problems
