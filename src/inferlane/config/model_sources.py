"""Reading the seed's ``ModelVersion`` objects (files or a directory listed in ``modelSources``).

The documents load unchanged (apiVersion ``ai.toolsku.dev/v1alpha1`` as in the seed, or
``ai.example.com/v1``); each becomes a version of the registry model ``spec.modelName``, bound to the
backend named in the source's ``backends`` map (by ``metadata.name``) or to the backend of that name.
Versions are appended to an inline ``models`` entry of the same name, so the split, mirror and fallback
settings can live in the proxy config while the versions come from the cluster's objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError

from inferlane.config.models import (
    Duration,
    ModelConfig,
    ModelSourceConfig,
    ModelVersionConfig,
    PositiveInt,
    Section,
    VersionName,
    model_problems,
)
from inferlane.config.problems import ConfigError, Problem, dotted
from inferlane.config.rollouts import rollout_registry_problems
from inferlane.config.schema import BackendConfig, HealthCheckConfig, ProxyConfig

API_VERSIONS = ("ai.toolsku.dev/v1alpha1", "ai.example.com/v1")


class _Serving(Section):
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    max_batch_size: PositiveInt | None = None
    gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] | None = None


class _Routing(Section):
    weight: Annotated[int, Field(ge=0)] = 1
    canary: bool = False


class _HealthCheck(Section):
    endpoint: str = "/health"
    interval: Duration = 10.0
    timeout: Duration = 2.0
    unhealthy_threshold: PositiveInt = 3


class _Spec(Section):
    model_name: Annotated[str, Field(min_length=1)]
    version: VersionName
    framework: str | None = None
    source: dict[str, dict[str, Any]] = Field(default_factory=dict)
    serving: _Serving = _Serving()
    routing: _Routing = _Routing()
    health_check: _HealthCheck = _HealthCheck()


class _Metadata(Section, extra="allow"):
    name: Annotated[str, Field(min_length=1)]


class ModelVersionObject(Section):
    api_version: Literal["ai.toolsku.dev/v1alpha1", "ai.example.com/v1"]
    kind: Literal["ModelVersion"]
    metadata: _Metadata
    spec: _Spec

    def version_config(self, source: ModelSourceConfig) -> ModelVersionConfig:
        name = self.metadata.name
        model_id = self.source_model_id
        served = model_id if source.served_name == "modelId" and model_id else self.spec.model_name
        return ModelVersionConfig(
            version=self.spec.version,
            backend=source.backends.get(name, name),
            weight=self.spec.routing.weight,
            served_name=served,
            canary=self.spec.routing.canary,
        )

    @property
    def source_model_id(self) -> str | None:
        for location in self.spec.source.values():
            model_id = location.get("modelId")
            if isinstance(model_id, str):
                return model_id
        return None


def with_model_sources(config: ProxyConfig, source: str) -> ProxyConfig:
    """``config`` with the versions of its ``modelSources`` merged into ``models``; raises ConfigError."""
    if not config.model_sources:
        return config
    origin = Path(source)
    base = origin.parent if origin.is_file() else Path.cwd()
    problems: list[Problem] = []
    found: list[ModelVersionObject] = []
    sources: list[ModelSourceConfig] = []
    for i, entry in enumerate(config.model_sources):
        objects = _read_source(base / entry.path, f"modelSources[{i}].path", problems)
        found.extend(objects)
        sources.extend([entry] * len(objects))
    models = {model.name: model for model in config.models}
    for obj, entry in zip(found, sources, strict=True):
        model = models.get(obj.spec.model_name) or ModelConfig(name=obj.spec.model_name)
        versions = [*model.versions, obj.version_config(entry)]
        models[model.name] = model.model_copy(update={"versions": versions})
    backends = _with_health_checks(config, found, sources)
    merged = config.model_copy(update={"models": list(models.values()), "backends": backends})
    problems.extend(Problem(*_split(text)) for text in model_problems(merged))
    problems.extend(Problem(*_split(text)) for text in rollout_registry_problems(merged))
    if problems:
        raise ConfigError(problems, source)
    return merged


def _with_health_checks(
    config: ProxyConfig, found: list[ModelVersionObject], sources: list[ModelSourceConfig]
) -> list[BackendConfig]:
    """A backend without its own ``healthCheck`` is checked the way its ModelVersion says (the first one
    bound to it); ``enabled`` and ``healthyThreshold`` still come from the top-level ``healthCheck``."""
    checks: dict[str, HealthCheckConfig] = {}
    for obj, entry in zip(found, sources, strict=True):
        spec = obj.spec.health_check
        backend = entry.backends.get(obj.metadata.name, obj.metadata.name)
        checks.setdefault(
            backend,
            config.health_check.model_copy(
                update={
                    "endpoint": spec.endpoint,
                    "interval": spec.interval,
                    "timeout": spec.timeout,
                    "unhealthy_threshold": spec.unhealthy_threshold,
                }
            ),
        )
    return [
        b.model_copy(update={"health_check": checks[b.name]})
        if b.health_check is None and b.name in checks
        else b
        for b in config.backends
    ]


def _split(text: str) -> tuple[str, str]:
    path, _, message = text.partition(": ")
    return path, message


def _read_source(path: Path, where: str, problems: list[Problem]) -> list[ModelVersionObject]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    elif path.is_file():
        files = [path]
    else:
        problems.append(Problem(where, f"no such file or directory: {path}"))
        return []
    objects: list[ModelVersionObject] = []
    for file in files:
        objects.extend(_read_file(file, where, problems))
    if not objects and files:
        problems.append(Problem(where, f"no ModelVersion objects found in {path}"))
    return objects


def _read_file(file: Path, where: str, problems: list[Problem]) -> list[ModelVersionObject]:
    try:
        loader = yaml.SafeLoader(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(where, f"cannot read {file}: {exc}"))
        return []
    objects: list[ModelVersionObject] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            line = node.start_mark.line + 1
            data = loader.construct_document(node)
            if not isinstance(data, dict) or data.get("kind") != "ModelVersion":
                continue  # other Kubernetes objects in the same directory are not ours
            try:
                objects.append(ModelVersionObject.model_validate(data, by_alias=True, by_name=False))
            except ValidationError as exc:
                for error in exc.errors():
                    message = str(error["msg"]).removeprefix("Value error, ")
                    problems.append(
                        Problem(where, f"{file}:{line}: {dotted(tuple(error['loc']))}: {message}")
                    )
    except yaml.YAMLError as exc:
        problems.append(Problem(where, f"{file}: invalid YAML: {exc}"))
    finally:
        loader.dispose()
    return objects
