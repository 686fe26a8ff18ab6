"""The simulator's tokenizer: deterministic, reversible, no downloads.

Rule: a text is its UTF-8 bytes cut into 4-byte pieces; each piece is one token. A full piece's id is the
piece read as a big-endian unsigned 32-bit integer; the last piece of a text may be shorter: it is padded
with NUL bytes and its id gets ``(4 - length) * 2**32`` added, so ``detokenize(tokenize(t)) == t``.
English text comes out at about one token per 4 characters (``ceil(len(utf8) / 4)`` tokens).

Chat messages are rendered with a fixed template before tokenizing (see :func:`render_chat`), so a shared
system prompt is a shared token prefix, which is what prefix caching needs.

Internally a token sequence is kept as bytes, 4 per token (:class:`TokenSeq`); token ids are only built
when a client asks for them (``/tokenize``) and token-id prompts are packed back into the same bytes, so a
text prompt and its ``/tokenize`` ids share prefix-cache blocks.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BYTES_PER_TOKEN = 4
_WORD = 1 << 32


@dataclass(frozen=True, slots=True)
class TokenSeq:
    """A token sequence as bytes: token ``i`` is ``data[4*i : 4*i+4]``."""

    data: bytes

    @property
    def count(self) -> int:
        return len(self.data) // BYTES_PER_TOKEN


def from_text(text: str) -> TokenSeq:
    raw = text.encode("utf-8", "surrogatepass")
    rest = len(raw) % BYTES_PER_TOKEN
    if rest:
        raw += b"\x00" * (BYTES_PER_TOKEN - rest)
    return TokenSeq(raw)


def count_text(text: str) -> int:
    """Token count of ``text`` without building anything (UTF-8 length / 4, rounded up)."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return -(-size // BYTES_PER_TOKEN)


def from_ids(ids: Sequence[int]) -> TokenSeq:
    """Pack token ids (from :func:`tokenize` or any other tokenizer) into a :class:`TokenSeq`."""
    return TokenSeq(struct.pack(f">{len(ids)}I", *(i % _WORD for i in ids)))


def tokenize(text: str) -> list[int]:
    raw = text.encode("utf-8", "surrogatepass")
    rest = len(raw) % BYTES_PER_TOKEN
    pad = (BYTES_PER_TOKEN - rest) % BYTES_PER_TOKEN
    ids = list(struct.unpack(f">{(len(raw) + pad) // BYTES_PER_TOKEN}I", raw + b"\x00" * pad))
    if pad:
        ids[-1] += pad * _WORD
    return ids


def detokenize(ids: Iterable[int]) -> str:
    """Inverse of :func:`tokenize`; ids from other tokenizers decode to (deterministic) bytes."""
    parts = []
    for token in ids:
        pad, value = divmod(int(token), _WORD)
        piece = value.to_bytes(BYTES_PER_TOKEN, "big")
        parts.append(piece[: BYTES_PER_TOKEN - min(pad, 3)])
    return b"".join(parts).decode("utf-8", "replace")


def render_chat(messages: Sequence[Mapping[str, object]], add_generation_prompt: bool = True) -> str:
    """The chat template: ``<|role|>\\n{content}\\n`` per message, then ``<|assistant|>\\n``.

    ``content`` may be a string or a list of OpenAI content parts (their ``text`` fields are joined).
    """
    out = []
    for message in messages:
        out.append(f"<|{message.get('role', 'user')}|>\n{content_text(message.get('content'))}\n")
    if add_generation_prompt:
        out.append("<|assistant|>\n")
    return "".join(out)


def content_text(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)
