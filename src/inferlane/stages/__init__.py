"""Pipeline stages: one folder per capability, a pure policy module and a thin async adapter."""
