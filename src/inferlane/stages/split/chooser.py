"""Which version of a model serves a request: live weights first (admin API, rollouts), then config."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from inferlane.registry.model import Model, Version
from inferlane.stages.split.policy import Choice, SplitTable, choose, sticky_key
from inferlane.stages.split.weights import WeightOverrides


class VersionChooser:
    def __init__(self, overrides: WeightOverrides, rng: random.Random) -> None:
        self.overrides = overrides
        self.rng = rng
        #: model name → (overrides revision it was built at, table); rebuilt when the revision moves
        self._tables: dict[str, tuple[int, SplitTable]] = {}

    def table(self, model: Model) -> SplitTable:
        revision = self.overrides.revision
        cached = self._tables.get(model.name)
        if cached is not None and cached[0] == revision:
            return cached[1]
        order = [version.name for version in model.versions]
        table = _from_config(model)
        live = self.overrides.get(model.name)
        if live is not None and any(live.get(name, 0) > 0 for name in order):
            table = SplitTable.of(order, live)
        self._tables[model.name] = (revision, table)
        return table

    def choose(
        self, model: Model, headers: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> tuple[Version, Choice] | None:
        """``None`` for an unversioned model."""
        if not model.versions:
            return None
        variant = None
        if model.experiment_header is not None:
            value = headers.get(model.experiment_header)
            variant = model.variants.get(value) if value is not None else None
        key = sticky_key(model.sticky_by, headers, body) if variant is None else None
        choice = choose(self.table(model), model.name, key, self.rng, variant)
        version = model.version(choice.version)
        assert version is not None
        return version, choice


def _from_config(model: Model) -> SplitTable:
    return SplitTable.of([v.name for v in model.versions], {v.name: v.weight for v in model.versions})
