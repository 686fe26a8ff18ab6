"""What the route integration tests share: the seed's three model sizes on the simulator."""

from __future__ import annotations

#: the seed's small/medium/large chat models (backend name, served model name)
SIZES = (
    ("qwen-7b", "qwen2.5-7b-instruct"),
    ("qwen-32b", "qwen2.5-32b-instruct"),
    ("qwen-72b", "qwen2.5-72b-instruct"),
)
