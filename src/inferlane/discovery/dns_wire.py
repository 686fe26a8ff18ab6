"""The DNS wire format (RFC 1035, SRV from RFC 2782, AAAA from RFC 3596), just what discovery needs: encode
a query, decode an answer's A, AAAA and SRV records with their TTLs (compression pointers included), and
encode an answer (for a local test server). Pure: bytes in, bytes or records out."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass

TYPES = {"A": 1, "AAAA": 28, "SRV": 33}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
NOERROR, NXDOMAIN = 0, 3
_HEADER = struct.Struct("!HHHHHH")


class DnsFormatError(ValueError):
    """The bytes are not a DNS message we can read."""


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    type: str
    ttl: int
    #: A/AAAA: the address; SRV: the target host name
    value: str
    port: int = 0
    priority: int = 0
    weight: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    id: int
    rcode: int
    answers: tuple[Record, ...]
    additional: tuple[Record, ...]


def encode_name(name: str) -> bytes:
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna") if label else b""
        if not raw or len(raw) > 63:
            raise ValueError(f"invalid DNS name {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


def encode_query(query_id: int, name: str, qtype: str) -> bytes:
    """A recursive query for one name and type."""
    return (
        _HEADER.pack(query_id, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", TYPES[qtype], 1)
    )


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` and the offset after it (following compression pointers, loop-safe)."""
    labels: list[str] = []
    end = -1
    for _ in range(128):
        if offset >= len(data):
            raise DnsFormatError("name runs past the message")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise DnsFormatError("truncated compression pointer")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end >= 0 else offset + 1)
        labels.append(data[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    raise DnsFormatError("too many labels or a pointer loop")


def _read_records(data: bytes, offset: int, count: int) -> tuple[list[Record], int]:
    records = []
    for _ in range(count):
        name, offset = _read_name(data, offset)
        if offset + 10 > len(data):
            raise DnsFormatError("truncated record header")
        rtype, _rclass, ttl, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        rdata = data[offset : offset + length]
        if len(rdata) != length:
            raise DnsFormatError("truncated record data")
        kind = TYPE_NAMES.get(rtype)
        if kind == "A" and length == 4:
            records.append(Record(name, kind, ttl, str(ipaddress.IPv4Address(rdata))))
        elif kind == "AAAA" and length == 16:
            records.append(Record(name, kind, ttl, str(ipaddress.IPv6Address(rdata))))
        elif kind == "SRV" and length >= 7:
            priority, weight, port = struct.unpack_from("!HHH", data, offset)
            target, _ = _read_name(data, offset + 6)
            records.append(Record(name, kind, ttl, target, port, priority, weight))
        offset += length
    return records, offset


def decode(data: bytes) -> Answer:
    if len(data) < _HEADER.size:
        raise DnsFormatError("message shorter than a header")
    query_id, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    if flags & 0x0200:
        raise DnsFormatError("truncated answer (TC set); use fewer records or TCP")
    offset = _HEADER.size
    for _ in range(qd):
        _, offset = _read_name(data, offset)
        offset += 4
    answers, offset = _read_records(data, offset, an)
    _, offset = _read_records(data, offset, ns)
    additional, _ = _read_records(data, offset, ar)
    return Answer(query_id, flags & 0x000F, tuple(answers), tuple(additional))


def _rdata(record: Record) -> bytes:
    if record.type == "A":
        return ipaddress.IPv4Address(record.value).packed
    if record.type == "AAAA":
        return ipaddress.IPv6Address(record.value).packed
    return struct.pack("!HHH", record.priority, record.weight, record.port) + encode_name(record.value)


def encode_answer(
    query: bytes, answers: Sequence[Record], additional: Sequence[Record] = (), rcode: int = NOERROR
) -> bytes:
    """A response to ``query`` (for a test server): the question echoed, then the records."""
    query_id, _flags, qd, _, _, _ = _HEADER.unpack_from(query)
    offset = _HEADER.size
    for _ in range(qd):
        _, offset = _read_name(query, offset)
        offset += 4
    out = bytearray(_HEADER.pack(query_id, 0x8180 | rcode, qd, len(answers), 0, len(additional)))
    out += query[_HEADER.size : offset]
    for record in (*answers, *additional):
        rdata = _rdata(record)
        out += encode_name(record.name) + struct.pack("!HHIH", TYPES[record.type], 1, record.ttl, len(rdata))
        out += rdata
    return bytes(out)
