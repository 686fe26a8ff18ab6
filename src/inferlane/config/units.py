"""Parsing of human units used in the YAML: durations (``30s``, ``50ms``, ``1m30s``) and sizes (``10Mi``)."""

from __future__ import annotations

import math
import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|k|B)?")
_SIZE_UNITS = {
    None: 1,
    "B": 1,
    "k": 1000,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def parse_duration(value: object) -> float:
    """Seconds from ``"30s"``, ``"50ms"``, ``"1m30s"`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration like '30s' or '50ms' is required, not a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError("durations cannot be negative or infinite")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"a duration like '30s' or '50ms' is required, got {type(value).__name__}")
    text = value.strip()
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"invalid duration {value!r}: use e.g. '30s', '50ms', '1m30s', '2h'")
    return total


def parse_size(value: object) -> int:
    """Bytes from ``"10Mi"``, ``"512Ki"``, ``"1G"`` or a bare number of bytes."""
    if isinstance(value, bool):
        raise ValueError("a size like '10Mi' is required, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("sizes cannot be negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"a size like '10Mi' is required, got {type(value).__name__}")
    match = _SIZE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"invalid size {value!r}: use e.g. '10Mi', '512Ki', '1G' or a number of bytes")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def format_duration(seconds: float) -> str:
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"
