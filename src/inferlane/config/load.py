"""Loading config: the only place that reads config files and the environment.

YAML is composed into nodes so every value keeps its line; ``${VAR}`` / ``${VAR:-default}`` are
interpolated in string scalars (``$${`` is a literal ``${``); a Kubernetes ConfigMap is unwrapped to its
``proxy.yaml`` key; then the strict schema validates and every problem is reported with its path and line.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from inferlane.config.problems import ConfigError, Problem
from inferlane.config.schema import ProxyConfig

Loc = tuple[str | int, ...]
_ENV = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Reader:
    """Turns a YAML node tree into plain data, remembering where each path starts."""

    def __init__(self, loader: yaml.SafeLoader, env: Mapping[str, str], line_offset: int) -> None:
        self.loader = loader
        self.env = env
        self.offset = line_offset
        self.marks: dict[Loc, tuple[int, int]] = {}
        self.problems: list[Problem] = []

    def read(self, node: yaml.Node, loc: Loc = ()) -> Any:
        self.marks.setdefault(loc, (node.start_mark.line + 1 + self.offset, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node)
                if key in out:
                    first = self.marks.get((*loc, key), (None, None))[0]
                    message = f"duplicate key {key!r} (first defined on line {first})"
                    self.problem((*loc, key), message, key_node)
                    continue
                self.marks[(*loc, key)] = (
                    key_node.start_mark.line + 1 + self.offset,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.read(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node)
        if isinstance(value, str) and "${" in value:
            return self.interpolate(value, loc, node)
        return value

    def interpolate(self, value: str, loc: Loc, node: yaml.Node) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1):
                return match.group(0)[1:]
            name, default = match.group(2), match.group(3)
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            self.problem(loc, f"environment variable {name} is not set (used as ${{{name}}})", node)
            return ""

        return _ENV.sub(replace, value)

    def problem(self, loc: Loc, message: str, node: yaml.Node | None = None) -> None:
        line = col = None
        if node is not None:
            line, col = node.start_mark.line + 1 + self.offset, node.start_mark.column + 1
        self.problems.append(Problem(dotted(loc), message, line, col))


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _compose(text: str, source: str, line_offset: int) -> yaml.Node | None:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 + line_offset if mark else None
        column = mark.column + 1 if mark else None
        raise ConfigError([Problem("", f"invalid YAML: {exc.problem}", line, column)], source) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("", f"invalid YAML: {exc}")], source) from None
    finally:
        loader.dispose()
    return node


def parse_config(text: str, source: str = "<string>", env: Mapping[str, str] | None = None) -> ProxyConfig:
    env = os.environ if env is None else env
    node = _compose(text, source, 0)
    configmap = _configmap_payload(node)
    offset = 0
    if configmap is not None:
        payload, offset = configmap
        node = _compose(payload, source, offset)
    loader = yaml.SafeLoader("")
    reader = _Reader(loader, env, offset)
    data = reader.read(node) if node is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "the config must be a YAML mapping", 1 + offset)], source)
    try:
        config = ProxyConfig.model_validate(data)
    except ValidationError as exc:
        reader.problems.extend(_problems(exc, reader.marks))
        raise ConfigError(reader.problems, source) from None
    if reader.problems:
        raise ConfigError(reader.problems, source)
    return config


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> ProxyConfig:
    text = Path(path).read_text(encoding="utf-8")
    return parse_config(text, str(path), env)


def _configmap_payload(node: yaml.Node | None) -> tuple[str, int] | None:
    """The ``proxy.yaml`` text of a ConfigMap and the line its block starts on, if this is one."""
    if not isinstance(node, yaml.MappingNode):
        return None
    fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    kind = fields.get("kind")
    data = fields.get("data")
    if not (
        isinstance(kind, yaml.ScalarNode) and kind.value == "ConfigMap" and isinstance(data, yaml.MappingNode)
    ):
        return None
    entries = {k.value: v for k, v in data.value if isinstance(k, yaml.ScalarNode)}
    chosen = entries.get("proxy.yaml")
    if chosen is None:
        yamls = [v for k, v in entries.items() if k.endswith((".yaml", ".yml"))]
        chosen = yamls[0] if len(yamls) == 1 else None
    if not isinstance(chosen, yaml.ScalarNode):
        return None
    # a block scalar's content starts on the line after its indicator
    return chosen.value, chosen.start_mark.line + (1 if chosen.style in ("|", ">") else 0)


def _problems(exc: ValidationError, marks: Mapping[Loc, tuple[int, int]]) -> list[Problem]:
    out = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" + _suggest(loc)
        elif error["type"] == "missing":
            message = "required key missing"
        line_col = marks.get(loc)
        while line_col is None and loc:
            loc_parent = loc[:-1]
            line_col = marks.get(loc_parent)
            if line_col is not None:
                break
            loc = loc_parent
        out.append(Problem(dotted(tuple(error["loc"])), message, *(line_col or (None, None))))
    return out


def _suggest(loc: Loc) -> str:
    model: type[BaseModel] | None = ProxyConfig
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        model = _field_model(model, part)
    if model is None:
        return ""
    allowed = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"


def _field_model(model: type[BaseModel], alias: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if alias in (name, field.alias):
            return _model_in(field.annotation)
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
