"""Reading the config file for a command: the config, or a printed report and the exit code."""

from __future__ import annotations

import sys

from inferlane.config.load import load_config
from inferlane.config.problems import ConfigError, format_report
from inferlane.config.schema import ProxyConfig
from inferlane.rollout.notes import rollout_notes
from inferlane.stages.batching.plan import batching_notes

INVALID, UNREADABLE = 1, 2


def load_or_report(path: str) -> ProxyConfig | int:
    """The validated config; or, after printing every problem to stderr, 1 (invalid) or 2 (unreadable)."""
    try:
        return load_config(path)
    except ConfigError as error:
        print(format_report(error), file=sys.stderr)
        print(f"{path}: INVALID ({len(error.problems)} problem(s))", file=sys.stderr)
        return INVALID
    except OSError as error:
        print(f"{path}: cannot read: {error.strerror}", file=sys.stderr)
        return UNREADABLE


def config_notes(config: ProxyConfig) -> list[str]:
    """Things a valid config may still not do as its author expects."""
    notes = []
    if config.default_backend_name is None and any(r.backend is None for r in config.routing.endpoints):
        notes.append("some routes have no backend and there is no routing.defaultEndpoint/defaultBackend")
    if not config.admin.token:
        notes.append("admin.token is not set: admin mutations (reload, weights) are disabled")
    notes.extend(batching_notes(config))
    notes.extend(rollout_notes(config.rollouts))
    return notes
