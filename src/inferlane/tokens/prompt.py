"""What counts as the prompt of an OpenAI-style body, pure: ``prompt`` (completions), ``messages``
(chat: string contents and the text parts of content lists), ``input`` (embeddings). Token-id prompts
count one token per id without any tokenizer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Prompt:
    texts: tuple[str, ...]
    #: tokens given as ids (``prompt: [1, 2, 3]``), counted as they are
    id_tokens: int = 0

    @property
    def chars(self) -> int:
        return sum(len(text) for text in self.texts)


def prompt_of(body: Mapping[str, Any] | None) -> Prompt | None:
    """The prompt of a request body, or ``None`` when it has nothing to count."""
    if body is None:
        return None
    texts: list[str] = []
    ids = 0
    found = False
    for key in ("prompt", "input"):
        value = body.get(key)
        if value is not None:
            found = True
            ids += _collect(value, texts)
    messages = body.get("messages")
    if isinstance(messages, list):
        found = True
        for message in messages:
            if isinstance(message, dict):
                _content(message.get("content"), texts)
    return Prompt(tuple(texts), ids) if found else None


def _collect(value: Any, texts: list[str]) -> int:
    """Append text prompts; return how many token ids were given directly."""
    if isinstance(value, str):
        texts.append(value)
        return 0
    if not isinstance(value, list):
        return 0
    ids = 0
    for item in value:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, int):
            ids += 1
        elif isinstance(item, list):
            ids += sum(1 for x in item if isinstance(x, int))
    return ids


def _content(content: Any, texts: list[str]) -> None:
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
