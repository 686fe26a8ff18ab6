"""Completions ⇄ chat translation, pure: request mapping, whole answers, stream chunks, SSE framing."""

from __future__ import annotations

import orjson
import pytest

from inferlane.stages.translate.completions import (
    ChunkTranslator,
    Untranslatable,
    chat_request,
    completion_response,
)
from inferlane.stages.translate.sse import EventRewriter
from inferlane.stages.translate.stage import chat_target


def test_request_parameters_are_mapped():
    body = {
        "model": "m", "prompt": "Say hi", "max_tokens": 7, "temperature": 0.2, "top_p": 0.9, "n": 2,
        "stop": ["\n"], "stream": True, "stream_options": {"include_usage": True}, "logprobs": 3,
        "presence_penalty": 0.1, "frequency_penalty": 0.2, "logit_bias": {"5": 1}, "seed": 1, "user": "u",
        "top_k": 40, "echo": False, "best_of": 1, "suffix": None,
    }  # fmt: skip
    assert chat_request(body) == {
        "model": "m", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 7,
        "temperature": 0.2, "top_p": 0.9, "n": 2, "stop": ["\n"], "stream": True,
        "stream_options": {"include_usage": True}, "logprobs": True, "top_logprobs": 3,
        "presence_penalty": 0.1, "frequency_penalty": 0.2, "logit_bias": {"5": 1}, "seed": 1, "user": "u",
        "top_k": 40,
    }  # fmt: skip


def test_single_prompt_list_and_default_max_tokens():
    assert chat_request({"model": "m", "prompt": ["only"]}) == {
        "model": "m",
        "messages": [{"role": "user", "content": "only"}],
        "max_tokens": 16,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"prompt": ["a", "b"]}, "single prompt"),
        ({"prompt": [1, 2, 3]}, "token-id prompts"),
        ({"prompt": None}, "must be a string"),
        ({"echo": True}, "'echo'"),
        ({"suffix": "end"}, "'suffix'"),
        ({"best_of": 3}, "'best_of'"),
    ],
)
def test_what_chat_cannot_express_is_refused(extra, message):
    with pytest.raises(Untranslatable, match=message):
        chat_request({"model": "m", "prompt": "p", **extra})


LOGPROBS = {
    "content": [
        {"token": "Hel", "logprob": -0.5, "top_logprobs": [{"token": "Hel", "logprob": -0.5}]},
        {"token": "lo", "logprob": -0.1, "top_logprobs": [{"token": "lo", "logprob": -0.1}]},
    ]
}


def test_whole_answer_becomes_a_text_completion():
    chat = {
        "id": "chatcmpl-42", "object": "chat.completion", "created": 7, "model": "m",
        "system_fingerprint": "fp",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "logprobs": LOGPROBS,
             "finish_reason": "stop", "stop_reason": None},
            {"index": 1, "message": {"role": "assistant", "content": None, "tool_calls": []},
             "logprobs": None, "finish_reason": "length"},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip
    assert completion_response(chat) == {
        "id": "cmpl-42", "object": "text_completion", "created": 7, "model": "m", "system_fingerprint": "fp",
        "choices": [
            {"index": 0, "text": "Hello", "finish_reason": "stop", "stop_reason": None,
             "logprobs": {"tokens": ["Hel", "lo"], "token_logprobs": [-0.5, -0.1],
                          "top_logprobs": [{"Hel": -0.5}, {"lo": -0.1}], "text_offset": [0, 3]}},
            {"index": 1, "text": "", "logprobs": None, "finish_reason": "length"},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip


def chunk(index: int, delta: dict, finish: str | None = None, **extra) -> dict:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return {**head, "choices": [{"index": index, "delta": delta, "finish_reason": finish, **extra}]}


def test_stream_chunks_keep_per_choice_offsets_and_drop_role_chunks():
    translate = ChunkTranslator()
    assert translate.chunk(chunk(0, {"role": "assistant", "content": ""})) is None
    one = {"content": [{"token": "ab", "logprob": -1.0, "top_logprobs": []}]}
    first = translate.chunk(chunk(0, {"content": "ab"}, logprobs=one))
    assert first is not None and first["object"] == "text_completion" and first["id"] == "cmpl-1"
    assert first["choices"][0]["text"] == "ab" and first["choices"][0]["logprobs"]["text_offset"] == [0]
    other = translate.chunk(chunk(1, {"content": "xyz"}))
    assert other is not None and other["choices"][0]["index"] == 1
    again = translate.chunk(chunk(0, {"content": "cd"}, "length", logprobs=one))
    assert again is not None and again["choices"][0]["logprobs"]["text_offset"] == [2]
    assert again["choices"][0]["finish_reason"] == "length"
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    tail = translate.chunk({"id": "chatcmpl-1", "created": 1, "model": "m", "choices": [], "usage": usage})
    assert tail is not None and tail["choices"] == [] and tail["usage"] == usage


STREAM = (
    b'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    b": keep-alive\n\n"
    b'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"h\xc3\xa9"}}]}\n\n'
    b'data: {"error":{"message":"boom","type":"server_error","code":"x"}}\n\n'
    b'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\n\r\n'
    b"data: [DONE]\n\n"
)
EXPECTED = (
    b": keep-alive\n\n"
    b'data: {"id":"cmpl-1","object":"text_completion","created":null,"model":null,"choices":'
    b'[{"index":0,"text":"h\xc3\xa9","logprobs":null,"finish_reason":null}]}\n\n'
    b'data: {"error":{"message":"boom","type":"server_error","code":"x"}}\n\n'
    b'data: {"id":"cmpl-1","object":"text_completion","created":null,"model":null,"choices":'
    b'[{"index":0,"text":"","logprobs":null,"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_events_are_reframed_whatever_the_chunk_boundaries(size):
    events = EventRewriter(ChunkTranslator().chunk)
    out = b"".join(events.feed(STREAM[i : i + size]) for i in range(0, len(STREAM), size)) + events.finish()
    assert out == EXPECTED
    assert orjson.loads(out.split(b"\n\n")[1][6:])["choices"][0]["text"] == "hé"


def test_an_unterminated_last_event_is_still_sent():
    events = EventRewriter(ChunkTranslator().chunk)
    assert events.feed(b"data: [DONE]") == b""
    assert events.finish() == b"data: [DONE]\n\n"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/v1/completions", "/v1/chat/completions"),
        ("/v1/completions?a=b", "/v1/chat/completions?a=b"),
        ("/openai/v1/completions", "/openai/v1/chat/completions"),
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/custom/generate", "/custom/generate"),
    ],
)
def test_upstream_path(target, expected):
    assert chat_target(target) == expected
