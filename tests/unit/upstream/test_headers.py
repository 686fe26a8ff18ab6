from __future__ import annotations

import pytest
from multidict import CIMultiDict

from inferlane.upstream.headers import downstream_response_headers, upstream_request_headers


def names(pairs):
    return [k.lower() for k, _ in pairs]


@pytest.mark.parametrize(
    ("incoming", "dropped"),
    [
        ({"Connection": "keep-alive", "Keep-Alive": "5"}, {"connection", "keep-alive"}),
        ({"Transfer-Encoding": "chunked", "TE": "trailers"}, {"transfer-encoding", "te"}),
        ({"Connection": "close, X-Secret", "X-Secret": "1"}, {"connection", "x-secret"}),
        (
            {"Host": "a", "Content-Length": "3", "Expect": "100-continue"},
            {"host", "content-length", "expect"},
        ),
        ({"Upgrade": "h2c", "Proxy-Authorization": "x"}, {"upgrade", "proxy-authorization"}),
    ],
)
def test_hop_by_hop_request_headers_are_dropped(incoming, dropped):
    out = names(upstream_request_headers(CIMultiDict(incoming), "1.2.3.4", "rid", {}))
    assert not dropped & set(out)


def test_end_to_end_headers_kept_xff_appended_request_id_set():
    incoming = CIMultiDict(
        {"Authorization": "Bearer k", "traceparent": "t", "X-Forwarded-For": "9.9.9.9", "X-Request-Id": "old"}
    )
    out = dict(upstream_request_headers(incoming, "1.2.3.4", "new", {}))
    assert out["Authorization"] == "Bearer k"
    assert out["traceparent"] == "t"
    assert out["X-Forwarded-For"] == "9.9.9.9, 1.2.3.4"
    assert out["X-Request-Id"] == "new"


def test_overrides_replace_incoming_values():
    out = upstream_request_headers(CIMultiDict({"X-Model": "a"}), "1.1.1.1", "r", {"x-model": "b"})
    assert [v for k, v in out if k.lower() == "x-model"] == ["b"]


def test_response_hop_by_hop_and_length_dropped():
    upstream = [
        ("Content-Type", "application/json"),
        ("Content-Length", "10"),
        ("Connection", "keep-alive, X-Internal"),
        ("X-Internal", "1"),
        ("Transfer-Encoding", "chunked"),
        ("X-Ok", "1"),
    ]
    assert names(downstream_response_headers(upstream)) == ["content-type", "x-ok"]
