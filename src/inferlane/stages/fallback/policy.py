"""Which failures move a request to a fallback model, and to which one (pure).

Failure kinds: ``5xx`` (an upstream 5xx answer, or no answer: reset, connect error, no healthy endpoint),
``timeout`` (connect or first-byte timeout; not the request's own deadline), ``circuit-open``, ``429``
(the upstream's rate limit) and ``context-length`` (the server's 400/413/422 saying the prompt does not
fit the model's context window — the cue for a larger-context model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from inferlane.errors import (
    CircuitOpen,
    InferlaneError,
    NoHealthyEndpoint,
    PoolFull,
    TotalTimeout,
    UpstreamError,
    UpstreamTimeout,
)
from inferlane.registry.model import Fallback

#: the wordings of vLLM, SGLang, TGI, OpenAI and llama.cpp for "the request does not fit the context"
_CONTEXT_LENGTH = re.compile(
    rb"context[ _-]length|context window|maximum context|max_new_tokens` must be|"
    rb"input is too long|exceeds the (?:available )?context",
    re.IGNORECASE,
)
_CONTEXT_STATUSES = frozenset({400, 413, 422})
#: how much of an error body is searched for the context-length wording
_SCAN = 4096


def failure_of_status(status: int, body: bytes) -> str | None:
    if status >= 500:
        return "5xx"
    if status == 429:
        return "429"
    if status in _CONTEXT_STATUSES and _CONTEXT_LENGTH.search(body[:_SCAN]):
        return "context-length"
    return None


def failure_of_error(error: InferlaneError) -> str | None:
    if isinstance(error, CircuitOpen):
        return "circuit-open"
    if isinstance(error, TotalTimeout):
        return None  # the request's own deadline is spent: no time left for another model
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamError | NoHealthyEndpoint | PoolFull):
        return "5xx"
    return None


def next_fallback(fallbacks: Sequence[Fallback], start: int, reason: str) -> int | None:
    """Index of the first fallback at or after ``start`` that takes this failure; ``None`` when none."""
    for index in range(start, len(fallbacks)):
        if reason in fallbacks[index].on:
            return index
    return None
