"""The hand-written OTLP encoder, decoded by the official generated protobuf classes."""

from __future__ import annotations

import os

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from inferlane.observability.otlp import KIND_CLIENT, KIND_SERVER, OtlpEncoder, varint


def decode(data: bytes) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest.FromString(data)


def value(kv):
    v = kv.value
    return getattr(v, v.WhichOneof("value"))


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 2**32, 2**64 - 1])
def test_varint_matches_protobuf(n):
    from google.protobuf.internal.encoder import _VarintBytes

    assert varint(n) == _VarintBytes(n)


def test_spans_decode_with_every_field_and_attribute_type():
    encoder = OtlpEncoder({"service.name": "sidecar"})
    tid, root_id, child_id = os.urandom(16), os.urandom(8), os.urandom(8)
    attrs = {"s": "héllo", "i": 200, "neg": -3, "big": 2**40, "f": 0.25, "t": True, "no": False, "e": ""}
    root = encoder.span(tid, root_id, None, "chat qwen", KIND_SERVER, 1_000, 2_000, attrs, error=True)
    child = encoder.span(tid, child_id, root_id, "POST 10.0.0.1:8000", KIND_CLIENT, 1_100, 1_900, {})
    message = decode(encoder.request([root, child]))
    (resource_spans,) = message.resource_spans
    assert [(kv.key, value(kv)) for kv in resource_spans.resource.attributes] == [("service.name", "sidecar")]
    (scope_spans,) = resource_spans.scope_spans
    assert scope_spans.scope.name == "inferlane"
    first, second = scope_spans.spans
    assert (first.trace_id, first.span_id, first.parent_span_id) == (tid, root_id, b"")
    assert (first.name, first.kind) == ("chat qwen", Span.SPAN_KIND_SERVER)
    assert (first.start_time_unix_nano, first.end_time_unix_nano) == (1_000, 2_000)
    assert {kv.key: value(kv) for kv in first.attributes} == attrs
    assert first.status.code == Status.STATUS_CODE_ERROR
    assert (second.parent_span_id, second.kind, second.status.code) == (root_id, Span.SPAN_KIND_CLIENT, 0)
    assert list(second.attributes) == []


def test_long_names_and_values_use_multi_byte_lengths():
    encoder = OtlpEncoder({})
    long = "x" * 1000
    span = encoder.span(b"\x01" * 16, b"\x02" * 8, None, long, KIND_SERVER, 0, 1, {"k": long})
    decoded = decode(encoder.request([span] * 300))
    spans = decoded.resource_spans[0].scope_spans[0].spans
    assert len(spans) == 300 and spans[-1].name == long and spans[-1].attributes[0].value.string_value == long


@pytest.mark.parametrize("value", ["", "0af7651916cd43dd8448eb211c80319c", "é" * 60, "x" * 500])
def test_an_uncached_string_attribute_decodes_at_any_length(value):
    encoder = OtlpEncoder({})
    head = b"\x0a\x10" + b"\x01" * 16 + b"\x12\x08" + b"\x02" * 8
    attribute = encoder.attribute("inferlane.request_id", value)
    span = encoder.framed(head, encoder.name_kind("root", KIND_SERVER), 0, 1, attribute, False)
    (decoded,) = decode(encoder.request([span])).resource_spans[0].scope_spans[0].spans
    assert [(kv.key, kv.value.string_value) for kv in decoded.attributes] == [("inferlane.request_id", value)]


def test_string_attributes_of_one_length_share_only_their_encoded_head():
    encoder = OtlpEncoder({})
    head = b"\x0a\x10" + b"\x01" * 16 + b"\x12\x08" + b"\x02" * 8
    values = ["a" * 32, "b" * 32, "é" * 16]  # the same encoded length, three values
    spans = [
        encoder.framed(head, encoder.name_kind("root", KIND_SERVER), 0, 1, encoder.attribute("id", v), False)
        for v in values
    ]
    decoded = decode(encoder.request(spans)).resource_spans[0].scope_spans[0].spans
    assert [span.attributes[0].value.string_value for span in decoded] == values


def test_cached_attributes_keep_their_type():
    encoder = OtlpEncoder({})
    head = b"\x0a\x10" + b"\x01" * 16 + b"\x12\x08" + b"\x02" * 8
    attributes = encoder.cached("n", 7) + encoder.cached("flag", True) + encoder.cached("n", 7)
    span = encoder.framed(head, encoder.name_kind("root", KIND_SERVER), 0, 1, attributes, False)
    (decoded,) = decode(encoder.request([span])).resource_spans[0].scope_spans[0].spans
    assert [(kv.key, value(kv)) for kv in decoded.attributes] == [("n", 7), ("flag", True), ("n", 7)]
