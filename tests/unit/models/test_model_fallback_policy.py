"""Which failures move a request to a fallback model, and to which one."""

from __future__ import annotations

import pytest

from inferlane.errors import (
    BadRequest,
    CircuitOpen,
    ConnectTimeout,
    FirstByteTimeout,
    NoHealthyEndpoint,
    TotalTimeout,
    UpstreamConnectError,
    UpstreamError,
)
from inferlane.registry.model import Fallback
from inferlane.stages.fallback.policy import failure_of_error, failure_of_status, next_fallback

VLLM_PROMPT = (
    b'{"error":{"message":"This model\'s maximum context length is 4096 tokens. However, your request has '
    b'5000 input tokens.","type":"BadRequestError","code":400}}'
)
OPENAI = b'{"error":{"message":"...","type":"invalid_request_error","code":"context_length_exceeded"}}'
TGI = (
    b'{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096","error_type":"x"}'
)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"{}", None),
        (404, b'{"error":"model not found"}', None),
        (400, b'{"error":{"message":"messages is required"}}', None),
        (400, VLLM_PROMPT, "context-length"),
        (400, OPENAI, "context-length"),
        (422, TGI, "context-length"),
        (413, b"prompt exceeds the context window", "context-length"),
        (429, b"", "429"),
        (500, b"", "5xx"),
        (503, VLLM_PROMPT, "5xx"),
    ],
)
def test_failure_of_an_upstream_answer(status, body, expected) -> None:
    assert failure_of_status(status, body) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (CircuitOpen("circuit breaker open"), "circuit-open"),
        (ConnectTimeout("t"), "timeout"),
        (FirstByteTimeout("t"), "timeout"),
        (TotalTimeout("deadline"), None),
        (UpstreamConnectError("refused"), "5xx"),
        (UpstreamError("reset"), "5xx"),
        (NoHealthyEndpoint("none"), "5xx"),
        (BadRequest("bad"), None),
    ],
)
def test_failure_of_a_proxy_error(error, expected) -> None:
    assert failure_of_error(error) == expected


CHAIN = (
    Fallback("b", frozenset({"5xx", "timeout"})),
    Fallback("long", frozenset({"context-length"})),
    Fallback("c", frozenset({"5xx", "429"})),
)


@pytest.mark.parametrize(
    ("start", "reason", "expected"),
    [
        (0, "5xx", 0),
        (1, "5xx", 2),
        (0, "context-length", 1),
        (2, "context-length", None),
        (0, "429", 2),
        (0, "circuit-open", None),
        (3, "5xx", None),
    ],
)
def test_next_fallback_walks_the_list_in_order(start, reason, expected) -> None:
    assert next_fallback(CHAIN, start, reason) == expected
