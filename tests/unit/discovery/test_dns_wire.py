"""The DNS wire codec: a hand-assembled answer with compression pointers decodes to the right records."""

from __future__ import annotations

import struct

import pytest

from inferlane.discovery.dns import parse_server, read_resolv_conf
from inferlane.discovery.dns_wire import DnsFormatError, Record, decode, encode_answer, encode_query


def test_query_bytes():
    assert encode_query(0x1234, "a.example", "SRV") == (
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x07example\x00\x00\x21\x00\x01"
    )


def test_decode_a_hand_assembled_srv_answer_with_compression():
    header = struct.pack("!HHHHHH", 7, 0x8180, 1, 2, 0, 1)
    question = b"\x04_api\x04_tcp\x02lb\x00" + b"\x00\x21\x00\x01"
    # SRV 10 5 8000 -> "pod-a" + pointer to "lb" (offset 12 + 10 = 22)
    srv_a = b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 30, 6 + 8) + struct.pack("!HHH", 10, 5, 8000)
    srv_a += b"\x05pod-a\xc0\x16"
    srv_b = (
        b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 20, 6 + 2) + struct.pack("!HHH", 10, 0, 8001) + b"\xc0\x16"
    )
    # additional: A record for pod-a.lb via a pointer to the SRV target name in srv_a's rdata
    target_at = 12 + len(question) + 2 + 10 + 6
    extra = struct.pack("!H", 0xC000 | target_at) + struct.pack("!HHIH", 1, 1, 5, 4) + bytes([10, 0, 0, 7])
    answer = decode(header + question + srv_a + srv_b + extra)
    assert answer.id == 7 and answer.rcode == 0
    assert answer.answers == (
        Record("_api._tcp.lb", "SRV", 30, "pod-a.lb", 8000, 10, 5),
        Record("_api._tcp.lb", "SRV", 20, "lb", 8001, 10, 0),
    )
    assert answer.additional == (Record("pod-a.lb", "A", 5, "10.0.0.7"),)


def test_round_trip_of_a_and_aaaa():
    query = encode_query(1, "svc.local", "A")
    records = [Record("svc.local", "A", 9, "127.0.0.2"), Record("svc.local", "AAAA", 9, "::1")]
    assert decode(encode_answer(query, records)).answers == tuple(records)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01",
        struct.pack("!HHHHHH", 1, 0x8180, 0, 1, 0, 0) + b"\xc0\x0c",  # pointer to itself
        struct.pack("!HHHHHH", 1, 0x8180, 0, 1, 0, 0) + b"\x00" + struct.pack("!HHIH", 1, 1, 5, 4) + b"\x01",
        struct.pack("!HHHHHH", 1, 0x8380, 0, 0, 0, 0),  # truncated (TC)
    ],
    ids=["short", "pointer-loop", "short-rdata", "tc-bit"],
)
def test_bad_messages_are_errors(data):
    with pytest.raises(DnsFormatError):
        decode(data)


def test_resolv_conf_and_server_addresses():
    servers, search = read_resolv_conf(
        "# c\nnameserver 10.96.0.10\nsearch ns.svc.cluster.local svc.cluster.local\n"
    )
    assert servers == [("10.96.0.10", 53)] and search == ["ns.svc.cluster.local", "svc.cluster.local"]
    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_server("10.0.0.1") == ("10.0.0.1", 53)
    assert parse_server("[::1]:53") == ("::1", 53)
    assert parse_server("::1") == ("::1", 53)
