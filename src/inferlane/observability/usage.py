"""Token usage of one answer: read from the upstream's ``usage`` object, or estimated (pure).

Reading is cheap on purpose: the ``usage`` object is found by its key and only that object is decoded, so a
large completion body is never parsed whole. Estimates follow the seed router's rule (4 characters per token)
and are marked ``estimated`` so dashboards can tell them apart.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

_USAGE_KEY = b'"usage":'
_TAIL = 320
_WINDOW = 2048  # bytes after the key that hold any usage object (OpenAI's, with details: ~300)
_new_usage = tuple.__new__
#: paths whose answers are OpenAI-style generations (usage injection and token estimates apply)
GENERATION_SUFFIXES = ("/chat/completions", "/completions")


class Usage(NamedTuple):
    """Immutable; a named tuple because it is built once per request and a frozen dataclass costs 3x more."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    estimated: bool = False


def usage_from(obj: Any) -> Usage | None:
    """A ``Usage`` from a decoded OpenAI ``usage`` object (``None`` when it is not one)."""
    if type(obj) is not dict:
        return None
    prompt = obj.get("prompt_tokens")
    output = obj.get("completion_tokens", 0)  # (embeddings report none)
    if type(prompt) is not int or type(output) is not int:  # Responses-API names, or not a usage object
        return _responses_usage(obj)
    details = obj.get("prompt_tokens_details")
    if details is None:  # the common case, and a third cheaper for tuple.__new__ (no Python constructor)
        return _new_usage(Usage, (prompt, output, 0, False))
    return _new_usage(Usage, (prompt, output, _cached(details), False))


def _responses_usage(obj: dict[str, Any]) -> Usage | None:
    """``usage`` as the Responses API names it (``input_tokens``/``output_tokens``)."""
    prompt = obj.get("input_tokens")
    output = obj.get("output_tokens", 0)
    if type(prompt) is not int or type(output) is not int:
        return None
    return Usage(prompt, output, _cached(obj.get("input_tokens_details")))


def _cached(details: Any) -> int:
    cached = details.get("cached_tokens", 0) if type(details) is dict else 0
    return cached if type(cached) is int else 0


def find_usage(body: bytes) -> Usage | None:
    """The ``usage`` object of a JSON answer, decoding only that object.

    The key ``"usage":`` cannot occur inside a JSON string (its quotes would be escaped), so the last
    occurrence is the top-level object's in OpenAI-style answers, where ``usage`` follows ``choices``.
    (``partition`` and ``rpartition`` take one argument and cost half of ``find`` with a start.)
    """
    _, key, rest = body[-_TAIL:].rpartition(_USAGE_KEY)  # usually among the last keys: the tail only
    if not key:
        at = body.rfind(_USAGE_KEY) if len(body) > _TAIL else -1
        if at < 0:
            return None
        rest = body[at + len(_USAGE_KEY) : at + _WINDOW]  # (no copy of the rest of a large body)
    flat, brace, _ = rest.partition(b"}")
    if not brace:
        return None
    try:  # the common case: a flat object ("prompt_tokens_details": null, or no details at all)
        obj = orjson.loads(flat + brace)
    except orjson.JSONDecodeError:
        return _nested_usage(rest, len(flat))
    return usage_from(obj)


def _nested_usage(rest: bytes, end: int) -> Usage | None:
    """``usage`` with nested objects (``prompt_tokens_details: {...}``): widen to each next ``}``."""
    if not rest[:16].lstrip().startswith(b"{"):
        return None
    end = rest.find(b"}", end + 1)
    while end > 0:
        try:
            return usage_from(orjson.loads(rest[: end + 1]))
        except orjson.JSONDecodeError:
            end = rest.find(b"}", end + 1)
    return None


_MODEL = re.compile(rb'"model"\s*:\s*"([^"\\]{1,256})"')


def find_model(head: bytes) -> str | None:
    """The ``model`` an answer names (read from its first bytes: OpenAI answers put it first)."""
    match = _MODEL.search(head, 0, 1024)
    return match.group(1).decode("utf-8", "replace") if match else None


def chars_to_tokens(chars: int) -> int:
    return (chars + 3) // 4


def estimate_prompt_tokens(json: dict[str, Any] | None) -> int:
    """Prompt tokens by the seed router's rule: characters of prompt and message contents / 4."""
    if json is None:
        return 0
    chars = tokens = 0
    prompt = json.get("prompt")
    if isinstance(prompt, str):
        chars += len(prompt)
    elif isinstance(prompt, list):  # strings, or token ids (one int each, or one list of ints per prompt)
        for part in prompt:
            if isinstance(part, str):
                chars += len(part)
            elif isinstance(part, int):
                tokens += 1
            elif isinstance(part, list):
                tokens += len(part)
    messages = json.get("messages")
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                chars += len(content)
            elif isinstance(content, list):
                for part in content:
                    text = part.get("text") if isinstance(part, dict) else None
                    if isinstance(text, str):
                        chars += len(text)
    return tokens + chars_to_tokens(chars)


def estimate_output_tokens(body: bytes) -> int:
    """Output tokens of a whole (non-streamed) answer without usage: its choices' text / 4."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 0
    choices = obj.get("choices") if isinstance(obj, dict) else None
    if not isinstance(choices, list):
        return 0
    chars = 0
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
        if isinstance(text, str):
            chars += len(text)
    return chars_to_tokens(chars)
