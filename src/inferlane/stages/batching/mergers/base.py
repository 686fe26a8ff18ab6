"""The merger contract shared by every protocol, and the arithmetic they have in common.

Contract (every method is pure and leaves its arguments untouched):

* ``key(body)`` — the compatibility key: two requests merge only when their keys are equal. ``None`` means
  "never merge this one" (streaming, ``n > 1``, malformed or unsupported bodies): it is sent alone, so the
  upstream judges it and its error reaches only its caller. Bodies do not always name the model (TF Serving
  and KServe put it in the path), so the batcher adds the request path and the upstream to the key.
* ``size(body)`` — the batch items the caller contributes (inputs, prompts, texts, instances, rows).
* ``merge(bodies)`` — one upstream request body for these callers, in order.
* ``split(response, bodies)`` — the upstream's answer to ``merge(bodies)`` cut back into one response per
  caller, in order, each exactly what that caller would have got alone (re-indexed, its own ``id``, its share
  of ``usage``). It takes the callers' bodies, not just their sizes, because the answer depends on them:
  KServe echoes each caller's ``id``, OpenAI ``usage`` is split by each caller's share of the input. An
  answer with the wrong number of results, or one that cannot be attributed, raises :class:`MergeError` —
  an error for every caller, never a silent mix-up.
* ``split_oversized(body, max_items)`` — a caller with more than ``max_items`` items cut into parts of at
  most ``max_items`` each, in order (``[body]`` when it fits); ``reassemble(responses)`` joins the parts'
  responses back into the one response the caller expects.

``key``/``size``/``merge``/``split_oversized`` are only called with bodies whose key is not ``None``, and
``merge`` only with bodies that share one key. Requests are parsed JSON objects; responses are parsed JSON
values (TEI answers with top-level arrays).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any, ClassVar, Protocol

import orjson

from inferlane.errors import UpstreamProtocolError


class MergeError(UpstreamProtocolError):
    """The upstream's answer to a merged batch cannot be split back to its callers."""

    code: ClassVar[str] = "batch_result_mismatch"


class Merger(Protocol):
    def key(self, body: dict[str, Any]) -> Hashable | None: ...

    def size(self, body: dict[str, Any]) -> int: ...

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]: ...

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]: ...

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]: ...

    def reassemble(self, responses: Sequence[Any]) -> Any: ...


def canonical(value: Any) -> bytes:
    """A hashable, order-independent rendering of a JSON value, for compatibility keys."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def fields_except(body: dict[str, Any], *names: str) -> bytes:
    """The canonical rendering of every field but ``names``: any other difference prevents merging."""
    return canonical({name: value for name, value in body.items() if name not in names})


def spans(sizes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive runs with these lengths."""
    start = 0
    for size in sizes:
        yield start, start + size
        start += size


def chunk_spans(total: int, max_items: int) -> list[tuple[int, int]]:
    """Cut ``total`` items into runs of at most ``max_items``, as even as possible."""
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    parts = max(1, -(-total // max_items))
    base, extra = divmod(total, parts)
    return list(spans([base + (1 if index < extra else 0) for index in range(parts)]))


def expect_count(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise MergeError(f"batching: the upstream returned {got} {what} for a batch of {expected}")


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder; parts sum to ``total``).

    All-zero weights share equally. Ties in the remainder go to the earlier caller.
    """
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for index in remainders[: total - sum(shares)]:
        shares[index] += 1
    return shares
