"""Config problems: what is wrong, where (YAML path and line), and a readable report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    #: YAML path in camelCase, e.g. ``backends[0].connectionPool.maxConnections``
    path: str
    message: str
    line: int | None = None
    column: int | None = None


class ConfigError(Exception):
    def __init__(self, problems: tuple[Problem, ...] | list[Problem], source: str) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(format_report(self))


def format_report(error: ConfigError) -> str:
    lines = []
    for p in error.problems:
        where = error.source
        if p.line is not None:
            where += f":{p.line}"
            if p.column is not None:
                where += f":{p.column}"
        path = f"{p.path}: " if p.path else ""
        lines.append(f"{where}: {path}{p.message}")
    return "\n".join(lines)
