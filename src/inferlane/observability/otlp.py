"""OTLP trace protobuf, encoded by hand (pure): ``ExportTraceServiceRequest`` bytes for OTLP/HTTP.

Building spans with the generated protobuf classes or the OpenTelemetry SDK costs ~100 µs per span in
Python, more than the whole proxy spends on a request; writing the few fields Inferlane sets straight to the
wire format costs a few µs. Field numbers follow opentelemetry-proto ``trace/v1/trace.proto`` and
``common/v1/common.proto``; tests decode the output with the official generated classes.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

Attributes = Mapping[str, str | int | float | bool]

KIND_INTERNAL, KIND_SERVER, KIND_CLIENT = 1, 2, 3
_U64 = (1 << 64) - 1
_DOUBLE = struct.Struct("<d")
#: start_time_unix_nano (7) and end_time_unix_nano (8), both fixed64, packed in one call
_TIMES = struct.Struct("<BQBQ")
_KINDS = {kind: bytes((0x30, kind)) for kind in range(6)}  # kind (6)
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
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


def prefix(tag: int, size: int) -> bytes:
    """The tag and length of a length-delimited field (``tag`` already holds the field number and wire
    type 2)."""
    if size < 0x80:
        return bytes((tag, size))
    if size < 0x4000:
        return bytes((tag, (size & 0x7F) | 0x80, size >> 7))
    return bytes((tag,)) + varint(size)


def field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return prefix(tag, len(payload)) + payload


def remember(cache: dict[_K, _V], key: _K, value: _V, limit: int) -> _V:
    """Keep ``value`` under ``key`` in a cache that is cleared when it reaches ``limit`` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


class OtlpEncoder:
    """Encodes spans; keeps the encoded attribute keys and the resource/scope prefix it reuses."""

    #: encoded string and int attributes kept for reuse (methods, models, routes, statuses repeat); each
    #: cache is cleared when full
    CACHE_LIMIT = 4096

    def __init__(self, resource: Attributes, scope: str = "inferlane") -> None:
        self._keys: dict[str, bytes] = {}
        self._attributes: dict[tuple[str, str | int | float | bool], bytes] = {}
        self._names: dict[tuple[str, int], bytes] = {}
        #: a span's frame (tag and length) by its size, and a string attribute's encoding up to its value
        #: by its key and the value's length: building them costs more than finding them
        self._frames: dict[int, bytes] = {}
        self._string_heads: dict[tuple[str, int], bytes] = {}
        resource_body = b"".join(field(0x0A, self.key_value(k, v)) for k, v in resource.items())
        self._resource = field(0x0A, resource_body)  # ResourceSpans.resource (1)
        self._scope = field(0x0A, field(0x0A, scope.encode()))  # ScopeSpans.scope (1) = {name (1)}

    def key(self, key: str) -> bytes:
        """``KeyValue.key`` (1), encoded once per key."""
        encoded = self._keys.get(key)
        if encoded is None:
            encoded = self._keys[key] = field(0x0A, key.encode())
        return encoded

    def key_value(self, key: str, value: str | int | float | bool) -> bytes:
        encoded_key = self.key(key)
        if type(value) is str:
            any_value = field(0x0A, value.encode())  # string_value (1)
        elif type(value) is bool:
            any_value = b"\x10\x01" if value else b"\x10\x00"  # bool_value (2)
        elif isinstance(value, int):
            any_value = b"\x18" + varint(value & _U64)  # int_value (3), int64 two's complement
        elif isinstance(value, float):
            any_value = b"\x21" + _DOUBLE.pack(value)  # double_value (4)
        else:
            any_value = field(0x0A, str(value).encode())
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
    ) -> bytes:
        """One span, framed for :meth:`request`."""
        head = b"\x0a\x10" + trace_id + b"\x12\x08" + span_id  # trace_id (1), span_id (2)
        if parent_id is not None:
            head += b"\x22\x08" + parent_id  # parent_span_id (4)
        return self.framed(
            head, self.name_kind(name, kind), start_ns, end_ns, self.attributes(attributes), error
        )

    def framed(
        self, head: bytes, name_kind: bytes, start_ns: int, end_ns: int, attributes: bytes, error: bool
    ) -> bytes:
        """A ``Span`` framed as a ``ScopeSpans.spans`` (2) entry. ``head`` holds its trace id, span id and
        parent span id (fields 1, 2, 4), ``name_kind`` its name and kind (:meth:`name_kind`),
        ``attributes`` its encoded attributes."""
        status = _STATUS_ERROR if error else b""
        size = len(head) + len(name_kind) + _TIMES.size + len(attributes) + len(status)
        frame = self._frames.get(size) or remember(self._frames, size, prefix(0x12, size), self.CACHE_LIMIT)
        return b"".join(
            (frame, head, name_kind, _TIMES.pack(0x39, start_ns, 0x41, end_ns), attributes, status)
        )

    def name_kind(self, name: str, kind: int) -> bytes:
        """A span's name (5) and kind (6), encoded together and kept for reuse."""
        encoded = self._names.get((name, kind))
        if encoded is None:
            encoded = remember(
                self._names, (name, kind), field(0x2A, name.encode()) + _KINDS[kind], self.CACHE_LIMIT
            )
        return encoded

    def attributes(self, attributes: Attributes) -> bytes:
        """Span attributes (9). String and int ones are encoded once and kept while the cache has room
        (methods, models, routes, statuses repeat), so a key must keep one type, as the semantic
        conventions define: ``("k", 1)`` and ``("k", True)`` are the same cache key."""
        cache = self._attributes
        return b"".join([cache.get(item) or self._attribute(item) for item in attributes.items()])

    def _attribute(self, item: tuple[str, str | int | float | bool]) -> bytes:
        encoded = self.attribute(*item)
        if type(item[1]) is str or type(item[1]) is int:
            remember(self._attributes, item, encoded, self.CACHE_LIMIT)
        return encoded

    def cached(self, key: str, value: str | int | bool) -> bytes:
        """One span attribute whose value repeats (a token count, a flag), through the attribute cache."""
        return self._attributes.get((key, value)) or self._attribute((key, value))

    def attribute(self, key: str, value: str | int | float | bool) -> bytes:
        """One span attribute, encoded and not cached (for values that never repeat). For a string (a
        request id) only the part up to the value is kept, by the value's length."""
        if type(value) is not str:
            return field(0x4A, self.key_value(key, value))  # attributes (9)
        raw = value.encode()
        head = self._string_heads.get((key, len(raw)))
        if head is None:
            encoded = field(0x4A, self.key_value(key, value))
            head = remember(
                self._string_heads, (key, len(raw)), encoded[: len(encoded) - len(raw)], self.CACHE_LIMIT
            )
        return head + raw

    def request(self, spans: Sequence[bytes]) -> bytes:
        """An ``ExportTraceServiceRequest`` carrying ``spans`` under this resource and scope, joined in one
        copy (a batch is ~150 KB)."""
        scope_spans = len(self._scope) + sum(map(len, spans))  # each span is framed as ScopeSpans.spans (2)
        scope_prefix = prefix(0x12, scope_spans)  # ResourceSpans.scope_spans (2)
        resource_spans = len(self._resource) + len(scope_prefix) + scope_spans
        # ExportTraceServiceRequest.resource_spans (1) = {resource (1), scope_spans (2) = {scope, spans}}
        parts = [prefix(0x0A, resource_spans), self._resource, scope_prefix, self._scope]
        parts.extend(spans)
        return b"".join(parts)
