"""Inferlane: an AI inference proxy for Kubernetes (sidecar, gateway, endpoint picker)."""

__version__ = "0.1.0"
