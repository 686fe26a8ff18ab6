"""Fallback to other models when a model fails before any byte reached the client."""
