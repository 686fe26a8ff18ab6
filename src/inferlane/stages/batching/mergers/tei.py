"""Hugging Face TEI ``/embed`` (also ``/embed_all``, ``/embed_sparse``) and ``/rerank``.

``/embed`` takes ``inputs`` (one text, texts, token ids or lists of token ids) and answers with a JSON array
holding one result per input, in order: merged callers' inputs are concatenated and the array is cut back by
each caller's count. Every other field (``normalize``, ``truncate``, ``truncation_direction``,
``prompt_name``, ``dimensions``...) must be identical.

``/rerank`` takes one ``query`` and ``texts`` and answers ``[{"index", "score", "text"?}]`` sorted by score,
best first. Only calls with the same query (and identical other fields) merge; their texts are
concatenated, and each caller gets the entries of its own texts — re-indexed to its own positions, still in
the upstream's best-first order, which is the order it would have got alone. Calls that ask for a top-k cut
(``top_n``/``top_k``) are never merged: a cut across callers would lose some callers' results.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from inferlane.stages.batching.mergers.base import (
    MergeError,
    chunk_spans,
    expect_count,
    fields_except,
    spans,
)
from inferlane.stages.batching.mergers.openai_prompts import items_of, prompt_items


def _result_list(response: Any, total: int, what: str) -> list[Any]:
    if not isinstance(response, list):
        raise MergeError(f"batching: the upstream's {what} answer is not a JSON array")
    expect_count(what, len(response), total)
    return response


class TeiEmbedMerger:
    __slots__ = ()

    def key(self, body: dict[str, Any]) -> Hashable | None:
        found = prompt_items(body.get("inputs"))
        return None if found is None else ("tei-embed", found[0], fields_except(body, "inputs"))

    def size(self, body: dict[str, Any]) -> int:
        return len(items_of(body["inputs"]))

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {**bodies[0], "inputs": [item for body in bodies for item in items_of(body["inputs"])]}

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]:
        sizes = [self.size(body) for body in bodies]
        results = _result_list(response, sum(sizes), "embeddings")
        return [results[start:end] for start, end in spans(sizes)]

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]:
        items = items_of(body["inputs"])
        if len(items) <= max_items:
            return [body]
        return [{**body, "inputs": items[start:end]} for start, end in chunk_spans(len(items), max_items)]

    def reassemble(self, responses: Sequence[Any]) -> Any:
        return [result for response in responses for result in response]


class TeiRerankMerger:
    __slots__ = ()

    def key(self, body: dict[str, Any]) -> Hashable | None:
        texts, query = body.get("texts"), body.get("query")
        if not isinstance(query, str) or not isinstance(texts, list) or not texts:
            return None
        if not all(isinstance(text, str) for text in texts) or {"top_n", "top_k"} & body.keys():
            return None
        return ("tei-rerank", fields_except(body, "texts"))

    def size(self, body: dict[str, Any]) -> int:
        return len(body["texts"])

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {**bodies[0], "texts": [text for body in bodies for text in body["texts"]]}

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]:
        sizes = [self.size(body) for body in bodies]
        total = sum(sizes)
        entries = _result_list(response, total, "rerank results")
        owner = [caller for caller, size in enumerate(sizes) for _ in range(size)]
        starts = [start for start, _ in spans(sizes)]
        parts: list[list[Any]] = [[] for _ in sizes]
        seen: set[int] = set()
        for entry in entries:
            index = entry.get("index") if isinstance(entry, dict) else None
            if type(index) is not int or not 0 <= index < total or index in seen:
                raise MergeError(
                    f"batching: the upstream's rerank indices are not a permutation of 0..{total - 1}"
                )
            seen.add(index)
            caller = owner[index]
            parts[caller].append({**entry, "index": index - starts[caller]})
        return parts

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]:
        texts = body["texts"]
        if len(texts) <= max_items:
            return [body]
        return [{**body, "texts": texts[start:end]} for start, end in chunk_spans(len(texts), max_items)]

    def reassemble(self, responses: Sequence[Any]) -> Any:
        """The parts' entries, shifted to the caller's positions, best first (ties: lower index, as TEI)."""
        entries: list[dict[str, Any]] = []
        offset = 0
        for response in responses:
            entries.extend({**entry, "index": entry["index"] + offset} for entry in response)
            offset += len(response)
        return sorted(entries, key=lambda entry: (-entry["score"], entry["index"]))
