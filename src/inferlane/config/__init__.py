"""Configuration: the strict schema, loading (the only place that reads files and env), and reload."""
