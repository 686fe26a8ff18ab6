"""Endpoint discovery and health: active checks, passive outlier ejection."""
