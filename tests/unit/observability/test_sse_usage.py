"""The SSE tap: usage found, usage-only event stripped only when asked, bytes otherwise untouched."""

from __future__ import annotations

import orjson
import pytest

from inferlane.observability.sse_usage import SseUsageTap
from inferlane.observability.usage import Usage
from support.clock import Clock

HEAD = b'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":'
ROLE = HEAD + b'[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
USAGE_OBJ = {"prompt_tokens": 7, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}}
USAGE = HEAD + b'[],"usage":' + orjson.dumps(USAGE_OBJ) + b"}\n\n"
DONE = b"data: [DONE]\n\n"


def token(text: str) -> bytes:
    return HEAD + b'[{"index":0,"delta":{"content":' + orjson.dumps(text) + b'},"finish_reason":null}]}\n\n'


STREAM = [ROLE, token("Hel"), token("lo "), token("you"), USAGE + DONE]


def tap_for(strip: bool, clock: Clock | None = None) -> SseUsageTap:
    return SseUsageTap(strip, clock or Clock())


def relay(tap: SseUsageTap, chunks: list[bytes]) -> bytes:
    out = []
    for i, chunk in enumerate(chunks):
        tap.clock.now = float(i)  # type: ignore[attr-defined]
        out.append(tap.feed(chunk))
    return b"".join(out) + tap.finish()


def test_strips_the_usage_only_event_and_keeps_everything_else_byte_for_byte():
    tap = tap_for(True)
    assert relay(tap, STREAM) == b"".join(STREAM).replace(USAGE, b"")
    assert tap.usage == Usage(7, 3, 4)
    assert (tap.token_events, tap.first_token_at, tap.done, tap.stripped) == (3, 1.0, True, True)
    assert tap.model == "m"


def test_keeps_the_usage_event_when_the_client_asked_for_it():
    tap = tap_for(False)
    assert relay(tap, STREAM) == b"".join(STREAM)
    assert tap.usage == Usage(7, 3, 4)
    assert not tap.stripped


def test_chunks_ending_on_event_boundaries_are_passed_on_as_the_same_objects():
    tap = tap_for(True)
    chunks = [ROLE, token("a"), token("b")]
    outs = [tap.feed(c) for c in chunks]
    assert all(out is chunk for out, chunk in zip(outs, chunks, strict=True))


@pytest.mark.parametrize("size", [1, 3, 17, 64])
def test_events_split_across_reads_are_reassembled(size: int):
    whole = b"".join(STREAM)
    pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
    tap = tap_for(True)
    assert relay(tap, pieces) == whole.replace(USAGE, b"")
    assert tap.usage == Usage(7, 3, 4)
    assert tap.token_events == 3


def test_crlf_framed_events():
    events = [e.replace(b"\n\n", b"\r\n\r\n") for e in STREAM]
    tap = tap_for(True)
    assert relay(tap, events) == b"".join(events[:-1]) + DONE.replace(b"\n\n", b"\r\n\r\n")
    assert tap.usage == Usage(7, 3, 4)


def test_a_cut_stream_has_no_usage_but_counts_token_events_and_relays_the_partial_tail():
    tap = tap_for(True)
    out = relay(tap, [ROLE, token("a"), token("b"), b'data: {"partial'])
    assert out.endswith(b'data: {"partial')
    assert tap.usage is None
    assert tap.token_events == 2
    assert not tap.done


def test_completions_streams_have_no_role_event():
    text = b'data: {"id":"x","object":"text_completion","choices":[{"index":0,"text":"Hi"}]}\n\n'
    clock = Clock()
    clock.now = 5.0
    tap = tap_for(False, clock)
    tap.feed(text)
    assert tap.first_token_at == 5.0


def test_continuous_usage_events_count_as_tokens_and_are_never_stripped():
    with_usage = token("x")[:-3] + b',"usage":' + orjson.dumps(USAGE_OBJ) + b"}\n\n"
    tap = tap_for(True)
    assert relay(tap, [ROLE, with_usage, DONE]) == ROLE + with_usage + DONE
    assert tap.token_events == 1
    assert tap.usage == Usage(7, 3, 4)


def test_openai_style_null_usage_on_every_chunk():
    def chunk(text: str) -> bytes:
        return token(text)[:-3] + b',"usage":null}\n\n'

    tap = tap_for(True)
    assert relay(tap, [chunk("a"), chunk("b"), USAGE, DONE]) == chunk("a") + chunk("b") + DONE
    assert (tap.token_events, tap.usage) == (2, Usage(7, 3, 4))


def test_several_token_events_in_one_read_are_all_counted():
    tap = tap_for(False)
    relay(tap, [ROLE + token("a"), token("b") + token("c") + token("d"), DONE])
    assert tap.token_events == 4
