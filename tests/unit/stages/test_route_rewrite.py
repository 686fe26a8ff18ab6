"""Pure rewrite functions: upstream target, header edits, model field."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from inferlane.stages.route.rewrite import Rewrite, rewritten_body, rewritten_headers, upstream_target


@pytest.mark.parametrize(
    ("target", "rewrite", "expected"),
    [
        ("/v1/completions", Rewrite(path="/v1/chat/completions"), "/v1/chat/completions"),
        ("/v1/completions?a=1", Rewrite(path="/v1/chat/completions"), "/v1/chat/completions?a=1"),
        ("/old/v1/models", Rewrite(path_prefix="/", matched_prefix="/old/"), "/v1/models"),
        ("/old/x?q", Rewrite(path_prefix="/new", matched_prefix="/old/"), "/new/x?q"),
        ("/old/", Rewrite(path_prefix="/new/", matched_prefix="/old/"), "/new/"),
        ("/v1/x", Rewrite(model="m"), "/v1/x"),
    ],
)
def test_upstream_target(target, rewrite, expected):
    assert upstream_target(target, rewrite) == expected


def test_header_edits_remove_then_set_then_add():
    headers = CIMultiDict([("X-A", "1"), ("x-a", "2"), ("X-B", "b"), ("X-C", "c")])
    rewrite = Rewrite(header_remove=("x-a",), header_set=(("x-b", "B"),), header_add=(("x-c", "C"),))
    out = rewritten_headers(headers, rewrite)
    assert "x-a" not in out and out.getall("x-b") == ["B"] and out.getall("X-C") == ["c", "C"]
    assert headers.getall("x-a") == ["1", "2"]  # the original is not changed


def test_model_rewrite_only_when_it_changes():
    body = {"model": "a", "prompt": "p"}
    assert rewritten_body(body, "a") is None
    assert rewritten_body(body, None) is None
    assert rewritten_body(None, "b") is None
    assert rewritten_body(body, "b") == {"model": "b", "prompt": "p"}
    assert body["model"] == "a"
