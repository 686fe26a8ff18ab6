"""OTLP trace protobuf, encoded by hand (pure): ``ExportTraceServiceRequest`` bytes for OTLP/HTTP.

Building spans with the generated protobuf classes or the OpenTelemetry SDK costs ~100 µs per span in
Python, more than the whole proxy spends on a request; writing the few fields Inferlane sets straight to the
wire format costs a few µs. Field numbers follow opentelemetry-proto ``trace/v1/trace.proto`` and
``common/v1/common.proto``; tests decode the output with the official generated classes.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Attributes = Mapping[str, str | int | float | bool]

KIND_INTERNAL, KIND_SERVER, KIND_CLIENT = 1, 2, 3
_U64 = (1 << 64) - 1
_DOUBLE = struct.Struct("<d")
#: start_time_unix_nano (7) and end_time_unix_nano (8), both fixed64, packed in one call
_TIMES = struct.Struct("<BQBQ")
_KINDS = {kind: bytes((0x30, kind)) for kind in range(6)}  # kind (6)
_K = TypeVar("_K", bound=Hashable)
_STATUS_ERROR = b"\x7a\x02\x18\x02"  # Span.status (15) = Status{code (3) = STATUS_CODE_ERROR}


def varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (``tag`` already holds the field number and wire type 2)."""
    size = len(payload)
    if size < 0x80:
        return bytes((tag, size)) + payload
    return bytes((tag,)) + varint(size) + payload


def _remember(cache: dict[_K, bytes], key: _K, encoded: bytes, limit: int) -> bytes:
    """Keep ``encoded`` under ``key`` in a cache that is cleared when it reaches ``limit`` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = encoded
    return encoded


class OtlpEncoder:
    """Encodes spans; keeps the encoded attribute keys and the resource/scope prefix it reuses."""

    #: encoded string and int attributes kept for reuse (methods, models, routes, statuses repeat); each
    #: cache is cleared when full
    CACHE_LIMIT = 4096

    def __init__(self, resource: Attributes, scope: str = "inferlane") -> None:
        self._keys: dict[str, bytes] = {}
        self._attributes: dict[type, dict[tuple[str, str | int | float | bool], bytes]] = {str: {}, int: {}}
        self._names: dict[str, bytes] = {}
        self._blocks: dict[Hashable, bytes] = {}
        resource_body = b"".join(field(0x0A, self.key_value(k, v)) for k, v in resource.items())
        self._resource = field(0x0A, resource_body)  # ResourceSpans.resource (1)
        self._scope = field(0x0A, field(0x0A, scope.encode()))  # ScopeSpans.scope (1) = {name (1)}

    def key_value(self, key: str, value: str | int | float | bool) -> bytes:
        encoded_key = self._keys.get(key)
        if encoded_key is None:
            encoded_key = self._keys[key] = field(0x0A, key.encode())  # KeyValue.key (1)
        if isinstance(value, bool):
            any_value = b"\x10\x01" if value else b"\x10\x00"  # bool_value (2)
        elif isinstance(value, int):
            any_value = b"\x18" + varint(value & _U64)  # int_value (3), int64 two's complement
        elif isinstance(value, float):
            any_value = b"\x21" + _DOUBLE.pack(value)  # double_value (4)
        else:
            any_value = field(0x0A, str(value).encode())  # string_value (1)
        return encoded_key + field(0x12, any_value)  # KeyValue.value (2)

    def span(
        self,
        trace_id: bytes,
        span_id: bytes,
        parent_id: bytes | None,
        name: str,
        kind: int,
        start_ns: int,
        end_ns: int,
        attributes: Attributes,
        error: bool = False,
        block: bytes = b"",
    ) -> bytes:
        """One ``Span`` message body; ``block`` is attributes already encoded (:meth:`store_block`)."""
        encoded_name = self._names.get(name)
        if encoded_name is None:  # name (5)
            encoded_name = _remember(self._names, name, field(0x2A, name.encode()), self.CACHE_LIMIT)
        parts = [b"\x0a\x10" + trace_id + b"\x12\x08" + span_id]  # trace_id (1), span_id (2)
        if parent_id is not None:
            parts.append(b"\x22\x08" + parent_id)  # parent_span_id (4)
        parts.append(encoded_name)
        parts.append(_KINDS[kind])
        parts.append(_TIMES.pack(0x39, start_ns, 0x41, end_ns))
        if block:
            parts.append(block)
        caches = self._attributes
        for item in attributes.items():
            cache = caches.get(type(item[1]))  # one per type: (k, 1) and (k, True) are equal keys
            encoded = cache.get(item) if cache is not None else None
            if encoded is None:
                encoded = field(0x4A, self.key_value(*item))  # attributes (9)
                if cache is not None:
                    _remember(cache, item, encoded, self.CACHE_LIMIT)
            parts.append(encoded)
        if error:
            parts.append(_STATUS_ERROR)
        return b"".join(parts)

    def attribute(self, key: str, value: str | int | float | bool) -> bytes:
        """One span attribute, encoded and not cached (for values that never repeat)."""
        return field(0x4A, self.key_value(key, value))  # attributes (9)

    def cached_block(self, key: Hashable) -> bytes | None:
        """Span attributes that repeat together (a route's, an endpoint's), encoded by :meth:`store_block`
        under a cheap ``key`` (a flat tuple of what the items are made from)."""
        return self._blocks.get(key)

    def store_block(self, key: Hashable, items: tuple[tuple[str, str | int | float | bool], ...]) -> bytes:
        """Encode ``items`` once and keep them under ``key`` for :meth:`cached_block`."""
        encoded = b"".join(field(0x4A, self.key_value(k, v)) for k, v in items)  # attributes (9)
        return _remember(self._blocks, key, encoded, self.CACHE_LIMIT)

    def request(self, spans: Iterable[bytes]) -> bytes:
        """An ``ExportTraceServiceRequest`` carrying ``spans`` under this resource and scope."""
        scope_spans = self._scope + b"".join(field(0x12, span) for span in spans)  # ScopeSpans.spans (2)
        resource_spans = self._resource + field(0x12, scope_spans)  # ResourceSpans.scope_spans (2)
        return field(0x0A, resource_spans)  # ExportTraceServiceRequest.resource_spans (1)
