"""The model registry: models, their versions, aliases and per-model policies (pure)."""
