"""Deterministic model outputs for classic tasks: embeddings, relevance scores, predictions (pure).

An embedding is a unit vector drawn from SHAKE-256 of the text's bytes (equal text, equal vector; unrelated
texts nearly orthogonal). A relevance score is the share of the query's words found in the document,
squeezed into (0.01, 0.99) with a tiny hash-derived tie-breaker.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from array import array
from collections.abc import Sequence

_WORDS = re.compile(r"\w+")


def embedding(data: bytes, dimensions: int) -> list[float]:
    raw = array("h")
    raw.frombytes(hashlib.shake_256(data).digest(2 * dimensions))
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def truncate_normalized(vector: Sequence[float], dimensions: int) -> list[float]:
    """Matryoshka-style truncation: keep the first ``dimensions`` values and renormalize."""
    head = list(vector[:dimensions])
    norm = math.sqrt(sum(v * v for v in head)) or 1.0
    return [v / norm for v in head]


def to_base64(vector: Sequence[float]) -> str:
    """OpenAI's ``encoding_format: base64``: little-endian float32 bytes, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def relevance(query: str, document: str) -> float:
    words = set(_WORDS.findall(query.lower()))
    if not words:
        return 0.01
    found = words & set(_WORDS.findall(document.lower()))
    tie = hashlib.blake2b((query + "\x00" + document).encode(), digest_size=2).digest()
    return 0.01 + 0.97 * len(found) / len(words) + int.from_bytes(tie, "big") / 65536 * 0.01


def prediction(data: bytes, outputs: int) -> list[float]:
    """A classic model's output row for one input: ``outputs`` values in [0, 1) derived from the input."""
    raw = hashlib.shake_256(data).digest(2 * outputs)
    return [int.from_bytes(raw[i : i + 2], "big") / 65536 for i in range(0, 2 * outputs, 2)]
