"""What OpenAI's ``input`` (embeddings) and ``prompt`` (completions) fields hold, and how ``usage`` is split.

Both fields take one text, a list of texts, one token-id list, or a list of token-id lists. A merged call
must hold one kind only (a list mixing texts and token lists is not valid), so the kind is part of the key.

Usage rule: a batch answer carries one ``usage`` for all its callers. Each integer field is apportioned
(largest remainder, so the callers' parts add up to the batch's) by the caller's share of the input it
measures: prompt-side fields (``prompt_tokens``) by input size — token count for token-id inputs, which is
exact whenever the upstream counts the ids it was sent, and characters for text, a close proportional
estimate — and completion-side fields (``completion_tokens``) by the characters of the caller's choices.
``total_tokens`` is the sum of the caller's prompt and completion tokens. Nested detail objects are dropped
rather than guessed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal, TypeAlias

from inferlane.stages.batching.mergers.base import (
    MergeError,
    apportion,
    chunk_spans,
    expect_count,
    fields_except,
    spans,
)

PromptKind: TypeAlias = Literal["text", "tokens"]


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(item) is int for item in value)


def prompt_items(value: Any) -> tuple[PromptKind, list[Any]] | None:
    """The field's items and their kind; ``None`` when the value is empty, mixed or not a prompt."""
    if isinstance(value, str):
        return "text", [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(item, str) for item in value):
        return "text", value
    if _is_tokens(value):
        return "tokens", [value]
    if all(_is_tokens(item) for item in value):
        return "tokens", value
    return None


def items_of(value: Any) -> list[Any]:
    """The items of a value that :func:`prompt_items` accepted."""
    found = prompt_items(value)
    if found is None:
        raise ValueError("not a mergeable prompt")
    return found[1]


def input_weight(value: Any) -> int:
    """A caller's share of the prompt tokens: token count for token ids, characters for text."""
    return sum(len(item) for item in items_of(value))


def split_usage(usage: Any, prompt_weights: Sequence[int], completion_weights: Sequence[int]) -> list[Any]:
    """One ``usage`` object per caller (see the module docstring); ``None`` stays ``None`` for all."""
    if not isinstance(usage, dict):
        return [usage for _ in prompt_weights]
    parts: list[dict[str, Any]] = [{} for _ in prompt_weights]
    for name, value in usage.items():
        if type(value) is not int or name == "total_tokens":
            continue
        weights = completion_weights if name.startswith("completion") else prompt_weights
        for part, share in zip(parts, apportion(value, weights), strict=True):
            part[name] = share
    if "total_tokens" in usage:
        for part in parts:
            part["total_tokens"] = part.get("prompt_tokens", 0) + part.get("completion_tokens", 0)
    return parts


def sum_usage(usages: Sequence[Any]) -> Any:
    """The usage of a reassembled caller: the parts' integer fields added up."""
    if not usages or not all(isinstance(usage, dict) for usage in usages):
        return usages[0] if usages else None
    total: dict[str, Any] = {}
    for usage in usages:
        for name, value in usage.items():
            if type(value) is int:
                total[name] = total.get(name, 0) + value
    return total


def reindexed(entries: Sequence[dict[str, Any]], start: int = 0) -> list[dict[str, Any]]:
    """Copies of result entries with ``index`` renumbered from ``start``."""
    return [{**entry, "index": start + offset} for offset, entry in enumerate(entries)]


def by_index(entries: Any, expected: int, what: str) -> list[dict[str, Any]]:
    """Result entries ordered by their ``index``, which must be exactly ``0..expected-1``."""
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise MergeError(f"batching: the upstream answer has no list of {what}")
    expect_count(what, len(entries), expected)
    ordered = sorted(entries, key=lambda entry: entry["index"] if type(entry.get("index")) is int else -1)
    if any(entry.get("index") != position for position, entry in enumerate(ordered)):
        raise MergeError(f"batching: the upstream's {what} do not carry the indices 0..{expected - 1}")
    return ordered


class OpenAIListMerger:
    """Shared by embeddings and completions: items in ``item_field``, results in ``result_field``."""

    __slots__ = ()
    item_field = "input"
    result_field = "data"
    what = "embeddings"

    def key(self, body: dict[str, Any]) -> Hashable | None:
        found = prompt_items(body.get(self.item_field))
        if found is None:
            return None
        return (self.what, found[0], fields_except(body, self.item_field))

    def size(self, body: dict[str, Any]) -> int:
        return len(items_of(body[self.item_field]))

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
        items = [item for body in bodies for item in items_of(body[self.item_field])]
        return {**bodies[0], self.item_field: items}

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]:
        if not isinstance(response, dict):
            raise MergeError(f"batching: the upstream's {self.what} answer is not a JSON object")
        sizes = [self.size(body) for body in bodies]
        ordered = by_index(response.get(self.result_field), sum(sizes), f"{self.what} results")
        prompt_weights = [input_weight(body[self.item_field]) for body in bodies]
        results = [ordered[start:end] for start, end in spans(sizes)]
        usages = split_usage(response.get("usage"), prompt_weights, self.completion_weights(results))
        return [
            self._answer(response, reindexed(part), usage)
            for part, usage in zip(results, usages, strict=True)
        ]

    def completion_weights(self, results: Sequence[Sequence[dict[str, Any]]]) -> list[int]:
        return [0 for _ in results]

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]:
        items = items_of(body[self.item_field])
        if len(items) <= max_items:
            return [body]
        return [
            {**body, self.item_field: items[start:end]} for start, end in chunk_spans(len(items), max_items)
        ]

    def reassemble(self, responses: Sequence[Any]) -> Any:
        entries: list[dict[str, Any]] = []
        for response in responses:
            entries.extend(reindexed(response[self.result_field], len(entries)))
        return self._answer(responses[0], entries, sum_usage([part.get("usage") for part in responses]))

    def _answer(self, response: dict[str, Any], entries: list[dict[str, Any]], usage: Any) -> dict[str, Any]:
        answer = {**response, self.result_field: entries}
        if "usage" in response:
            answer["usage"] = usage
        return answer
