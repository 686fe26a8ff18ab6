from __future__ import annotations

import pytest

from inferlane.sim import tokens


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("hello world!", 3), ("héllo", 2), ("日本語", 3)],
)
def test_count_is_utf8_bytes_over_four_rounded_up(text: str, count: int) -> None:
    assert len(tokens.tokenize(text)) == count
    assert tokens.count_text(text) == count
    assert tokens.from_text(text).count == count


@pytest.mark.parametrize(
    "text", ["", "a", "hello world, this is a test", "héllo wörld", "emoji 🎉 ok", "x" * 1001]
)
def test_detokenize_inverts_tokenize(text: str) -> None:
    assert tokens.detokenize(tokens.tokenize(text)) == text


def test_ids_are_deterministic_and_prefix_stable() -> None:
    a = tokens.tokenize("The system prompt. Question one?")
    b = tokens.tokenize("The system prompt. Question two?")
    assert a == tokens.tokenize("The system prompt. Question one?")
    assert a[:6] == b[:6]


def test_token_ids_pack_to_the_same_bytes_as_text() -> None:
    text = "0123456789abcdef" * 5
    assert tokens.from_ids(tokens.tokenize(text)).data == tokens.from_text(text).data


def test_chat_template_shares_system_prefix() -> None:
    system = {"role": "system", "content": "You are terse."}
    one = tokens.render_chat([system, {"role": "user", "content": "a"}])
    two = tokens.render_chat([system, {"role": "user", "content": "b"}])
    assert one.startswith("<|system|>\nYou are terse.\n<|user|>\n")
    assert one.endswith("<|assistant|>\n")
    assert one != two and one[:30] == two[:30]


def test_content_parts_are_joined() -> None:
    parts = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "b"},
    ]
    assert tokens.content_text(parts) == "ab"
