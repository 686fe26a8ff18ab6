"""Reading usage from answers cheaply, and the chars/4 estimates used when there is none."""

from __future__ import annotations

import orjson
import pytest

from inferlane.observability.usage import (
    Usage,
    estimate_output_tokens,
    estimate_prompt_tokens,
    find_model,
    find_usage,
    usage_from,
)


def test_finds_the_top_level_usage_of_a_completion():
    body = orjson.dumps(
        {
            "choices": [{"message": {"content": 'a "usage": {} b'}}],
            "usage": {
                "prompt_tokens": 12,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 8},
            },
        }
    )
    assert find_usage(body) == Usage(12, 5, 8)


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"usage": null}', b'{"usage": {"total_tokens": 3}}', b'{"usage": {"prompt_tokens": 1'],
)
def test_no_usage(body: bytes):
    assert find_usage(body) is None


def test_model_is_read_from_the_head_of_the_answer():
    assert find_model(b'{"id":"x","object":"chat.completion","model":"qwen-7b","choices":[]}') == "qwen-7b"
    assert find_model(b'{"id":"x","choices":[]}') is None


@pytest.mark.parametrize("padding", [0, 100, 300, 5000])
def test_usage_anywhere_in_small_and_large_answers(padding: int):
    body = b'{"usage":{"prompt_tokens":3,"completion_tokens":1},"x":"' + b"y" * padding + b'"}'
    assert find_usage(body) == Usage(3, 1)
    nested = b'{"usage":{"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens":1}'
    assert find_usage(nested + b',"x":"' + b"y" * padding + b'"}') == Usage(3, 1, 2)


def test_embeddings_usage_has_no_completion_tokens():
    assert find_usage(b'{"data":[],"usage":{"prompt_tokens":9,"total_tokens":9}}') == Usage(9, 0)


def test_responses_api_names():
    assert usage_from({"input_tokens": 3, "output_tokens": 4}) == Usage(3, 4)


@pytest.mark.parametrize(
    ("json", "tokens"),
    [
        (None, 0),
        ({"prompt": "abcdefgh"}, 2),
        ({"prompt": ["abcd", "abcde"]}, 3),
        ({"prompt": [1, 2, 3]}, 3),
        ({"prompt": [[1, 2], [3]]}, 3),
        ({"messages": [{"role": "user", "content": "abcdefghi"}]}, 3),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "abcd"}]}]}, 1),
    ],
)
def test_prompt_estimate_is_chars_over_four(json, tokens):
    assert estimate_prompt_tokens(json) == tokens


def test_output_estimate_reads_choice_text():
    chat = orjson.dumps({"choices": [{"message": {"content": "abcdefgh"}}, {"message": {"content": "x"}}]})
    assert estimate_output_tokens(chat) == 3
    assert estimate_output_tokens(orjson.dumps({"choices": [{"text": "abcd"}]})) == 1
    assert estimate_output_tokens(b"not json") == 0
