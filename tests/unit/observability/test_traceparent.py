from __future__ import annotations

import pytest

from inferlane.observability.traceparent import format_traceparent, parse_traceparent

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
SID = "00f067aa0ba902b7"


def test_round_trip():
    header = format_traceparent(TID, SID)
    assert header == f"00-{TID}-{SID}-01"
    assert parse_traceparent(header) == (TID, SID, 1)


def test_future_versions_may_carry_more_fields():
    assert parse_traceparent(f"01-{TID}-{SID}-00-extra") == (TID, SID, 0)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"00-{TID}-{SID}-01-extra",
        f"ff-{TID}-{SID}-01",
        f"00-{'0' * 32}-{SID}-01",
        f"00-{TID}-{'0' * 16}-01",
        f"00-{TID.upper()}-{SID}-01",
        f"00-{TID[:-1]}-{SID}-01",
        f"00-{TID}-{SID}-1",
    ],
)
def test_invalid_headers_start_a_new_trace(header):
    assert parse_traceparent(header) is None
