"""What picking reads from a request body: the prompt's bytes, its block hashes and a token estimate."""

from __future__ import annotations

from inferlane.picking.prompt import BLOCK_BYTES, pick_request, prompt_bytes

SYSTEM = "x" * 4 * BLOCK_BYTES


def chat(question: str, system: str = SYSTEM) -> dict[str, object]:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": question}]}


def test_chat_prompts_sharing_a_system_prompt_share_leading_blocks():
    a = pick_request("m", chat("first question"))
    b = pick_request("m", chat("another one"))
    assert a.prompt_hashes[:4] == b.prompt_hashes[:4]
    assert a.prompt_tokens > 4 * BLOCK_BYTES // 4


def test_models_and_adapters_never_share_a_prefix():
    assert pick_request("m", chat("q")).prompt_hashes[0] != pick_request("n", chat("q")).prompt_hashes[0]
    base, lora = pick_request("m", chat("q")), pick_request("m", chat("q"), lora="sql")
    assert base.prompt_hashes[0] != lora.prompt_hashes[0]


def test_content_parts_prompts_and_token_ids():
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]}
    assert prompt_bytes(parts) == b"user\x1ehello"
    assert prompt_bytes({"prompt": "hi"}) == b"hi"
    assert prompt_bytes({"prompt": ["first", "second"]}) == b"first"
    assert prompt_bytes({"prompt": [1, 2]}) == b"\x00\x00\x00\x01\x00\x00\x00\x02"
    assert prompt_bytes(None) == b"" and prompt_bytes({"model": "m"}) == b""


def test_hashing_is_bounded_but_the_token_estimate_is_not():
    request = pick_request("m", {"prompt": "y" * 100_000}, max_bytes=1024)
    assert len(request.prompt_hashes) == 1024 // BLOCK_BYTES
    assert request.prompt_tokens == 25_000
    assert pick_request("m", {"prompt": "y"}, prompt_tokens=7).prompt_tokens == 7


def test_session_key_is_carried():
    assert pick_request("m", None, session="abc").session == "abc"
