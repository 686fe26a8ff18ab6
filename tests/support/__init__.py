"""Shared test support: real loopback servers that misbehave on purpose, and a running proxy."""
