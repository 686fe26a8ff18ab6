"""Live per-model version weights that outlive config reloads.

The admin API (``PUT /admin/models/<model>/weights``) and a running rollout write here; the split stage
reads here before falling back to the weights in config. The App owns the one instance and hands it to
every pipeline it builds, so a reload keeps what an operator or a rollout set.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class WeightOverrides:
    def __init__(self) -> None:
        self._weights: dict[str, Mapping[str, int]] = {}
        #: bumped on every change, so readers can cache derived tables cheaply
        self.revision = 0

    def get(self, model: str) -> Mapping[str, int] | None:
        return self._weights.get(model)

    def set(self, model: str, weights: Mapping[str, int]) -> None:
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"weights for {model!r} must be non-negative with a positive sum")
        self._weights[model] = MappingProxyType(dict(weights))
        self.revision += 1

    def clear(self, model: str) -> None:
        if self._weights.pop(model, None) is not None:
            self.revision += 1

    def items(self) -> list[tuple[str, Mapping[str, int]]]:
        return list(self._weights.items())
