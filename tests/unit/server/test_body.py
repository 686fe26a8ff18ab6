from __future__ import annotations

import pytest

from inferlane.errors import InvalidJSON, MissingModel
from inferlane.server.body import parse_json


@pytest.mark.parametrize(
    ("path", "method", "ctype", "body", "expected"),
    [
        ("/v1/chat/completions", "POST", "application/json", b'{"model":"m"}', {"model": "m"}),
        ("/v1/chat/completions", "POST", "", b'{"model":"m","stream":true}', {"model": "m", "stream": True}),
        ("/v1/models", "GET", "", b"", None),
        ("/anything", "POST", "application/octet-stream", b"\x00\x01", None),
        ("/anything", "POST", "", b"not json", None),
        ("/anything", "POST", "application/json", b"[1, 2]", None),
    ],
)
def test_parse_json_reads_what_the_pipeline_needs(path, method, ctype, body, expected):
    assert parse_json(path, method, ctype, body) == expected


@pytest.mark.parametrize(
    ("path", "ctype", "body", "error"),
    [
        ("/v1/chat/completions", "application/json", b'{"model": ', InvalidJSON),
        ("/v1/completions", "", b"nope", InvalidJSON),
        ("/v1/embeddings", "application/json", b"[]", InvalidJSON),
        ("/v1/chat/completions", "application/json", b'{"messages": []}', MissingModel),
        ("/v1/embeddings", "application/json", b'{"model": 5}', MissingModel),
        ("/custom", "application/json", b"{bad", InvalidJSON),
    ],
)
def test_parse_json_rejects_bad_bodies(path, ctype, body, error):
    with pytest.raises(error):
        parse_json(path, "POST", ctype, body)
