"""Name resolution over the registry: canonical names, exact aliases, then ``*`` wildcard aliases."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from fnmatch import fnmatchcase

import orjson

from inferlane.registry.model import Model

#: resolved wildcard look-ups kept (client-chosen names, so bounded)
_CACHE_LIMIT = 4096


class Registry:
    """Models by name. ``resolve`` is the hot path: one dict hit for known names."""

    def __init__(self, models: Sequence[Model], created: int = 0) -> None:
        self.models = tuple(models)
        self._exact: dict[str, Model] = {}
        self._patterns: list[tuple[str, Model]] = []
        for model in self.models:
            self._exact.setdefault(model.name, model)
        for model in self.models:
            for alias in model.aliases:
                if any(ch in alias for ch in "*?["):
                    self._patterns.append((alias, model))
                else:
                    self._exact.setdefault(alias, model)
        self._resolved: dict[str, Model | None] = {}
        self.created = created
        self.listing = self._listing(created)

    def resolve(self, name: str) -> Model | None:
        model = self._exact.get(name)
        if model is not None or not self._patterns:
            return model
        if name in self._resolved:
            return self._resolved[name]
        found = next((m for pattern, m in self._patterns if fnmatchcase(name, pattern)), None)
        if len(self._resolved) >= _CACHE_LIMIT:
            self._resolved.clear()
        self._resolved[name] = found
        return found

    def get(self, name: str) -> Model | None:
        """The model with this canonical name (no aliases)."""
        model = self._exact.get(name)
        return model if model is not None and model.name == name else None

    def versions_of(self, name: str) -> list[str]:
        """Version names of a model (canonical name or alias) in config order; [] when unknown."""
        model = self.resolve(name)
        return [version.name for version in model.versions] if model is not None else []

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """The closest known names (canonical and exact aliases) to a name that did not resolve."""
        return difflib.get_close_matches(name, list(self._exact), n=limit, cutoff=0.5)

    def card(self, name: str) -> bytes | None:
        """``GET /v1/models/<name>``: the model card for a name that resolves (wildcards included)."""
        model = self.resolve(name)
        if model is None:
            return None
        return orjson.dumps(_card(name, model, self.created))

    def _listing(self, created: int) -> bytes:
        """``GET /v1/models`` in OpenAI's list shape: every callable name (models and exact aliases)."""
        data = [_card(name, model, created) for name, model in self._exact.items()]
        return orjson.dumps({"object": "list", "data": data})


def _card(name: str, model: Model, created: int) -> dict[str, object]:
    return {"id": name, "object": "model", "created": created, "owned_by": "inferlane", "root": model.name}
