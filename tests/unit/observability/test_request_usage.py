"""Asking the upstream for stream usage: spliced into the original bytes, or re-encoded once."""

from __future__ import annotations

import orjson

from inferlane.model import ProxyRequest
from inferlane.observability.accounting import request_usage
from inferlane.pipeline.context import RequestContext


def context(body: bytes) -> RequestContext:
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, body, "", 0.0)
    return RequestContext(request, "r", 0.0, 60.0, orjson.loads(body))


def test_splices_the_option_in_front_of_the_original_bytes():
    body = b' {"model": "m", "stream": true, "messages": [{"role": "user", "content": "\\u00e9"}]}'
    ctx = context(body)
    assert request_usage(ctx)
    assert ctx.body.endswith(body[2:])  # the client's bytes follow untouched
    assert orjson.loads(ctx.body) == {**orjson.loads(body), "stream_options": {"include_usage": True}}
    assert ctx.json is not None and ctx.json["stream_options"] == {"include_usage": True}


def test_keeps_other_stream_options():
    ctx = context(b'{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1}}')
    assert request_usage(ctx)
    assert orjson.loads(ctx.body)["stream_options"] == {"include_usage": True, "x": 1}


def test_a_client_that_asked_is_left_alone():
    body = b'{"model":"m","stream":true,"stream_options":{"include_usage":true}}'
    ctx = context(body)
    assert not request_usage(ctx)
    assert ctx.body is body


def test_invalid_stream_options_are_left_for_the_upstream_to_reject():
    body = b'{"model":"m","stream":true,"stream_options":"yes"}'
    ctx = context(body)
    assert not request_usage(ctx)
    assert ctx.body is body
