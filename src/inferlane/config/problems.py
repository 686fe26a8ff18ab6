"""Config problems: what is wrong, where (camelCase YAML path and line), and a readable report.

Also turns pydantic's validation errors into problems: locations become ``backends[0].connectionPool``
paths with the line they were written on, messages are worded for someone editing YAML, unknown keys
and unknown choices get a "did you mean".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]
Mark = tuple[int, int]

_VALIDATOR_PATH = re.compile(r"([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*): (.+)", re.S)
_LOC_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")
_SHOULD = re.compile(r"^(?:Input|String|List|Value|Dictionary|Decimal) should ")
_EXPECTED = MappingProxyType(
    {
        "model_type": "a mapping of keys",
        "dict_type": "a mapping of keys",
        "model_attributes_type": "a mapping of keys",
        "list_type": "a list",
        "int_type": "an integer",
        "float_type": "a number",
        "bool_type": "true or false",
        "string_type": "a string",
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    #: YAML path in camelCase, e.g. ``backends[0].connectionPool.maxConnections``; "" for the whole file
    path: str
    message: str
    #: 1-based line and column in the file, when known
    line: int | None = None
    column: int | None = None


class ConfigError(Exception):
    """A config that cannot be used, with every problem found (not just the first)."""

    def __init__(self, problems: Iterable[Problem], source: str) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(format_report(self))


def format_report(error: ConfigError) -> str:
    """One problem per line: ``proxy.yaml:12:5: server.readTimout: unknown key 'readTimout' (…)``."""
    lines = []
    for problem in error.problems:
        where = error.source
        if problem.line is not None:
            where += f":{problem.line}"
            if problem.column is not None:
                where += f":{problem.column}"
        path = f"{problem.path}: " if problem.path else ""
        lines.append(f"{where}: {path}{problem.message}")
    return "\n".join(lines)


def dotted(loc: Loc) -> str:
    """``("backends", 0, "connectionPool")`` → ``backends[0].connectionPool``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def undotted(path: str) -> Loc:
    return tuple(name if name else int(index) for name, index in _LOC_PART.findall(path))


def validation_problems(
    exc: ValidationError, model: type[BaseModel], marks: Mapping[Loc, Mark]
) -> list[Problem]:
    """Problems for each pydantic error, located with ``marks`` (path → line, column of the key)."""
    out = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        for message in _message(error, model, loc).split("\n"):
            where, text = _validator_target(loc, message, marks)
            line, column = _nearest_mark(where, marks)
            out.append(Problem(dotted(where), text, line, column))
    return out


def _validator_target(loc: Loc, message: str, marks: Mapping[Loc, Mark]) -> tuple[Loc, str]:
    """A model validator names the offending key first ("retryOn: …"): point at that key."""
    match = _VALIDATOR_PATH.fullmatch(message)
    if match:
        target = (*loc, *undotted(match.group(1)))
        if target in marks:
            return target, match.group(2)
    return loc, message


def _nearest_mark(loc: Loc, marks: Mapping[Loc, Mark]) -> tuple[int | None, int | None]:
    for end in range(len(loc), -1, -1):
        mark = marks.get(loc[:end])
        if mark is not None:
            return mark
    return None, None


def _message(error: ErrorDetails, model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}{_suggest_key(model, loc)}"
    if kind == "missing":
        return "required key missing"
    if kind in _EXPECTED and error["input"] is None and kind.startswith(("model", "dict")):
        return "is empty: write its keys below it, or remove it to use the defaults"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_yaml_type(error['input'], kind)}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = _SHOULD.sub("must ", message, count=1).replace(" after validation", "")
    if kind == "literal_error" and isinstance(error["input"], str):
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        message += _did_you_mean(error["input"], choices, listing=False)
    return message


def _yaml_type(value: Any, expected: str) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        numeric = expected in ("int_type", "float_type") and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value)
        return "a string (write the number without quotes)" if numeric else "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _suggest_key(model: type[BaseModel], loc: Loc) -> str:
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, str) and current is not None:
            current = _field_model(current, part)
    if current is None:
        return ""
    allowed = [field.alias or name for name, field in current.model_fields.items()]
    return _did_you_mean(str(loc[-1]), allowed, listing=True)


def _did_you_mean(given: str, allowed: list[str], *, listing: bool) -> str:
    """Closest allowed word, ignoring case, ``_`` and ``-`` (so ``read_timeout`` finds ``readTimeout``)."""
    by_norm = {_norm(word): word for word in allowed}
    close = difflib.get_close_matches(_norm(given), list(by_norm), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {by_norm[close[0]]!r}?)"
    return f" (allowed: {', '.join(sorted(allowed))})" if listing and allowed else ""


def _norm(word: str) -> str:
    return word.replace("_", "").replace("-", "").lower()


def _field_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return _model_in(field.annotation)
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
