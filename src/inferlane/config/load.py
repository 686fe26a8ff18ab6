"""Loading config: the only place that reads config files and the environment.

The YAML is composed into nodes so that every value keeps its line; a Kubernetes ConfigMap is unwrapped to
its ``proxy.yaml`` key; ``${VAR}`` / ``${VAR:-default}`` are interpolated in string values (``$${`` is a
literal ``${``); then the strict schema validates. Every problem found is reported at once, with its
camelCase path and line (docs/configuration.md, "Loading rules").
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from inferlane.config.model_sources import with_model_sources
from inferlane.config.problems import ConfigError, Loc, Mark, Problem, dotted, validation_problems
from inferlane.config.schema import ProxyConfig

#: ``$${`` (escape), ``${NAME}``, ``${NAME:-default}``, or a malformed ``${``
_REFERENCE = re.compile(r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\})?")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
#: nodes read before giving up (alias bombs)
_NODE_BUDGET = 200_000


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> ProxyConfig:
    """Read and validate the config file at ``path``; ``env`` defaults to ``os.environ``.

    Raises :class:`ConfigError` listing every problem, or :class:`OSError` when the file cannot be read.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem("", "the file is not UTF-8 text", line)], os.fspath(path)) from None
    return parse_config(text, os.fspath(path), env)


def parse_config(text: str, source: str = "<string>", env: Mapping[str, str] | None = None) -> ProxyConfig:
    """Validate config text (a ``proxy.yaml`` or a ConfigMap holding one); raises :class:`ConfigError`."""
    node = _compose(text, source)
    reader = _Reader(os.environ if env is None else env)
    inner = _configmap_payload(node, text, source)
    if inner is not None:
        payload, reader.line_offset, reader.column_offset = inner
        node = _compose(payload, source, reader.line_offset, reader.column_offset)
    data = reader.read(node) if node is not None else {}
    config = None
    if not isinstance(data, dict):
        reader.problem((), "the config must be a mapping of keys (like 'server:')", node)
    else:
        try:
            config = ProxyConfig.model_validate(data, by_alias=True, by_name=False)
        except ValidationError as exc:
            found = validation_problems(exc, ProxyConfig, reader.marks)
            # a value left empty by a failed ${…} is already reported; its schema error would be noise
            reader.problems.extend(p for p in found if p.path not in reader.unresolved)
    if reader.problems or config is None:
        ordered = sorted(reader.problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
        raise ConfigError([_redact(p, reader.secrets) for p in ordered], source)
    return with_model_sources(config, source)  # the ModelVersion files named in modelSources


@dataclass(frozen=True, slots=True)
class _Secret:
    """A value that came (at least partly) from the environment, and the variables it came from."""

    value: str
    names: tuple[str, ...]


class _Reader:
    """Turns YAML nodes into plain data, remembering where each path was written."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.line_offset = 0
        self.column_offset = 0
        self.loader = yaml.SafeLoader("")
        self.marks: dict[Loc, Mark] = {}
        self.problems: list[Problem] = []
        self.secrets: dict[Loc, _Secret] = {}
        self.unresolved: set[str] = set()
        self.budget = _NODE_BUDGET
        self.reading: set[int] = set()

    def mark(self, node: yaml.Node) -> Mark:
        start = node.start_mark
        return start.line + 1 + self.line_offset, start.column + 1 + self.column_offset

    def problem(self, loc: Loc, message: str, node: yaml.Node | None = None) -> None:
        line, column = self.mark(node) if node is not None else (None, None)
        self.problems.append(Problem(dotted(loc), message, line, column))

    def unresolved_problem(self, loc: Loc, message: str, node: yaml.Node) -> None:
        self.unresolved.add(dotted(loc))
        self.problem(loc, message, node)

    def read(self, node: yaml.Node, loc: Loc = ()) -> Any:
        self.marks.setdefault(loc, self.mark(node))
        if id(node) in self.reading:
            self.problem(loc, "an alias refers to the value that contains it", node)
            return None
        self.budget -= 1
        if self.budget < 0:
            if self.budget == -1:
                self.problem(loc, "too many values (an alias expands too far?)", node)
            return None
        self.reading.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, yaml.SequenceNode):
                return [self.read(item, (*loc, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.ScalarNode):
                return self._scalar(node, loc)
            return None
        finally:
            self.reading.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lines: dict[str, int] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, loc)
            if key is None:
                continue
            line = self.mark(key_node)[0]
            if key in lines:
                message = f"duplicate key {key!r} (first on line {lines[key]}, again on line {line})"
                self.problem((*loc, key), message, key_node)
                continue
            lines[key] = line
            self.marks.setdefault((*loc, key), self.mark(key_node))
            out[key] = self.read(value_node, (*loc, key))
        for merge in merges:  # ``<<: *defaults``: keys written here win, then earlier merges
            for key, value in self._merged(merge, loc).items():
                out.setdefault(key, value)
        return out

    def _key(self, key_node: yaml.Node, loc: Loc) -> str | None:
        if isinstance(key_node, yaml.ScalarNode):
            return str(key_node.value)
        self.problem(loc, "keys must be plain words, not lists or mappings", key_node)
        return None

    def _merged(self, node: yaml.Node, loc: Loc) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problem(loc, "'<<' merges a mapping or a list of mappings", source)
                continue
            if id(source) in self.reading:
                self.problem(loc, "an alias refers to the value that contains it", source)
                continue
            self.reading.add(id(source))
            try:
                for key, value in self._mapping(source, loc).items():
                    out.setdefault(key, value)
            finally:
                self.reading.discard(id(source))
        return out

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        try:
            value = self.loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(loc, f"cannot read this value: {exc.problem}", node)
            return None
        if not isinstance(value, str) or "${" not in value:
            return value
        text, names = self._interpolate(value, loc, node)
        if names:
            self.secrets[loc] = _Secret(text, names)
        if node.style is not None:
            return text
        # an unquoted reference takes the type its value would have had if written there: quote to keep text
        tag = self.loader.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        retyped = yaml.ScalarNode(tag, text)
        try:
            return self.loader.construct_object(retyped)
        except yaml.YAMLError:
            return text

    def _interpolate(self, value: str, loc: Loc, node: yaml.Node) -> tuple[str, tuple[str, ...]]:
        names: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if match.group(0) == "$${":
                return "${"
            if name is None:
                hint = "write ${NAME} or ${NAME:-default}; $${ is a literal ${"
                self.unresolved_problem(loc, f"malformed environment reference: {hint}", node)
                return ""
            found = self.env.get(name)
            if found:  # like the shell's ${NAME:-default}: an empty variable takes the default
                names.append(name)
                return found
            if default is not None:
                return default
            if found is None:
                message = f"environment variable {name} is not set (referenced as ${{{name}}})"
                self.unresolved_problem(loc, message, node)
            return ""

        return _REFERENCE.sub(replace, value), tuple(names)


def _compose(text: str, source: str, line_offset: int = 0, column_offset: int = 0) -> yaml.Node | None:
    """The single document's node tree (``None`` when empty); syntax errors and extra documents raise."""
    loader = yaml.SafeLoader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (
                isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG and not node.value
            ):
                continue
            documents.append(node)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 + line_offset if exc.problem_mark else None
        column = exc.problem_mark.column + 1 + column_offset if exc.problem_mark else None
        raise ConfigError([Problem("", _syntax_message(exc), line, column)], source) from None
    finally:
        loader.dispose()
    if len(documents) > 1:
        line = documents[1].start_mark.line + 1 + line_offset
        message = f"{len(documents)} YAML documents in one file; the config is one document (remove '---')"
        raise ConfigError([Problem("", message, line, 1)], source)
    return documents[0] if documents else None


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    message = f"invalid YAML: {exc.problem}"
    if exc.context:
        where = f" started on line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    if "'\\t'" in message:
        message += "; indent with spaces, not tabs"
    return message


def _configmap_payload(node: yaml.Node | None, text: str, source: str) -> tuple[str, int, int] | None:
    """For a ConfigMap, its ``proxy.yaml`` text and the line/column offsets of that text in the file.

    Exact for a literal block (``proxy.yaml: |``); approximate (the line of the key) for quoted strings.
    """
    fields = _scalar_keyed(node)
    kind = fields.get("kind")
    if not (isinstance(kind, yaml.ScalarNode) and kind.value == "ConfigMap"):
        return None
    data = _scalar_keyed(fields.get("data"))
    chosen = data.get("proxy.yaml")
    if chosen is None:
        yamls = [value for key, value in data.items() if key.endswith((".yaml", ".yml"))]
        chosen = yamls[0] if len(yamls) == 1 else None
    if not isinstance(chosen, yaml.ScalarNode):
        keys = ", ".join(sorted(data)) or "none"
        message = f"this ConfigMap has no 'proxy.yaml' text under 'data' (keys: {keys})"
        raise ConfigError([Problem("data", message, *_start(fields.get("data") or node))], source)
    if chosen.style not in ("|", ">"):
        return chosen.value, chosen.start_mark.line, 0
    # a block scalar's content starts on the line after its indicator, shifted right by its indentation
    outer = text.splitlines()[chosen.start_mark.line + 1 :]
    inner = chosen.value.splitlines()
    first = next((i for i, line in enumerate(inner) if line.strip()), None)
    shift = 0
    if first is not None and first < len(outer):
        shift = _indent(outer[first]) - _indent(inner[first])
    return chosen.value, chosen.start_mark.line + 1, max(shift, 0)


def _scalar_keyed(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _start(node: yaml.Node | None) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _redact(problem: Problem, secrets: Mapping[Loc, _Secret]) -> Problem:
    """Never echo a value that came from the environment: name the variable instead."""
    message = problem.message
    for secret in secrets.values():
        if not secret.value:
            continue
        placeholder = "(value from " + ", ".join(f"${{{name}}}" for name in secret.names) + ")"
        message = message.replace(repr(secret.value), placeholder)
        if len(secret.value) >= 6:
            message = message.replace(secret.value, placeholder)
    if message == problem.message:
        return problem
    return Problem(problem.path, message, problem.line, problem.column)
