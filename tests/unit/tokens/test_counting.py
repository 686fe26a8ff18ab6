"""Prompt token counting: what counts as the prompt, the seed's chars/4, and a real local tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from inferlane.tokens.counter import CharEstimate, LocalTokenizer, TokenCounters
from inferlane.tokens.prompt import Prompt, prompt_of


@pytest.mark.parametrize(
    ("body", "prompt"),
    [
        (None, None),
        ({"model": "m"}, None),
        ({"prompt": "abcd"}, Prompt(("abcd",))),
        ({"prompt": ["ab", "cd"]}, Prompt(("ab", "cd"))),
        ({"prompt": [1, 2, 3]}, Prompt((), 3)),
        ({"prompt": [[1, 2], [3]]}, Prompt((), 3)),
        ({"input": "hello"}, Prompt(("hello",))),
        (
            {
                "messages": [
                    {"role": "system", "content": "s"},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "t"},
                            {"type": "image_url", "image_url": {"url": "u"}},
                        ],
                    },
                ]
            },
            Prompt(("s", "t")),
        ),
        ({"messages": []}, Prompt(())),
    ],
)
def test_what_the_prompt_is(body, prompt):
    assert prompt_of(body) == prompt


def test_seed_estimate_is_chars_over_four():
    estimate = CharEstimate()
    assert estimate.count(Prompt(("a" * 4000,))) == 1000
    assert estimate.count(Prompt(("abc", "defgh"))) == 2
    assert estimate.count(Prompt(("abcd",), id_tokens=5)) == 6


@pytest.fixture
def tokenizer_json(tmp_path: Path) -> Path:
    """A tiny word-level tokenizer: every known word is one token, anything else is [UNK]."""
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "big": 3, "prompt": 4}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def test_local_tokenizer_counts_real_tokens(tokenizer_json):
    counter = LocalTokenizer.from_file("words", tokenizer_json)
    assert counter.count(Prompt(("hello world",))) == 2
    assert counter.count(Prompt(("hello world", "big prompt, really"), id_tokens=1)) == 2 + 4 + 1
    assert counter.offload_chars is not None  # big prompts are counted off the event loop


def test_broken_tokenizer_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"routing.tokenizers\[words\]: cannot load"):
        LocalTokenizer.from_file("words", bad)


def test_counter_choice_route_then_model_then_estimate(tokenizer_json):
    words = LocalTokenizer.from_file("words", tokenizer_json)
    counters = TokenCounters({"words": words}, ((("qwen*",), words),))
    assert counters.pick("words", "llama") is words
    assert counters.pick(None, "qwen2.5-7b") is words
    assert isinstance(counters.pick(None, "llama"), CharEstimate)
    assert isinstance(counters.pick(None, None), CharEstimate)
