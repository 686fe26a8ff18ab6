"""What picking needs to know about a request's prompt, read from the already-parsed JSON body.

No tokenizer: the prompt's text (chat messages rendered role by role, a completion prompt, token ids
packed 4 bytes each) is cut into 64-byte blocks (about 16 tokens of English) and chain-hashed, seeded with
the model name so different models never share a prefix. The chain uses Python's own (SipHash) hash: the
prefix index lives in this process only, so the hashes need not agree across processes, and it is several
times faster than a cryptographic digest per block. The hashed head is bounded (``max_bytes``) so a
huge prompt costs a bounded amount of hashing; the token estimate covers the whole prompt (4 bytes per
token, the common rule of thumb for English BPE vocabularies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferlane.picking.prefix_index import stable_hash
from inferlane.picking.view import PickRequest

#: bytes per hashed block, and the tokens one block stands for in the prefix index
BLOCK_BYTES = 64
BLOCK_TOKENS = 16
BYTES_PER_TOKEN = 4
_SEP = b"\x1e"


def _content(value: Any, out: list[bytes]) -> None:
    if isinstance(value, str):
        out.append(value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    out.append(text.encode("utf-8", "surrogatepass"))
            elif isinstance(part, str):
                out.append(part.encode("utf-8", "surrogatepass"))


def prompt_bytes(body: Mapping[str, Any] | None) -> bytes:
    """The prompt as bytes, in the order the model server sees it ("" when there is none)."""
    if body is None:
        return b""
    out: list[bytes] = []
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping):
                role = message.get("role")
                out.append(role.encode() if isinstance(role, str) else b"")
                _content(message.get("content"), out)
        return _SEP.join(out)
    prompt = body.get("prompt", body.get("input"))
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
        return b"".join((t & 0xFFFFFFFF).to_bytes(4, "big") for t in prompt if isinstance(t, int))
    if isinstance(prompt, list) and prompt:
        prompt = prompt[0]
    _content(prompt, out)
    return b"".join(out)


def chained_hashes(data: bytes, seed: int, max_blocks: int) -> tuple[int, ...]:
    """One hash per full 64-byte block, each covering every block before it."""
    count = min(len(data) // BLOCK_BYTES, max_blocks)
    out = [0] * count
    prev = seed
    for i in range(count):
        start = i * BLOCK_BYTES
        prev = hash((prev, data[start : start + BLOCK_BYTES]))
        out[i] = prev
    return tuple(out)


def pick_request(
    model: str,
    body: Mapping[str, Any] | None,
    *,
    lora: str | None = None,
    session: str | None = None,
    prompt_tokens: int | None = None,
    max_bytes: int = 512 * 1024,
) -> PickRequest:
    """The request as picking sees it: model, adapter, prompt block hashes and size, session key."""
    data = prompt_bytes(body)
    # the seed separates models and adapters; a prompt shorter than one block has nothing to hash
    seed = stable_hash(lora or model) >> 1 if len(data) >= BLOCK_BYTES else 0
    hashes = chained_hashes(data, seed, max_bytes // BLOCK_BYTES)
    tokens = prompt_tokens if prompt_tokens is not None else -(-len(data) // BYTES_PER_TOKEN)
    return PickRequest(model=model, lora=lora, prompt_hashes=hashes, prompt_tokens=tokens, session=session)
