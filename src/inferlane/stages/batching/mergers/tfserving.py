"""TF Serving REST ``:predict`` (also KServe v1): the row format and the columnar format.

Row format: ``{"instances": [...]}`` → ``{"predictions": [...]}``, one prediction per instance. Merged
callers' instances are concatenated and the predictions cut back by each caller's count.

Columnar format: ``{"inputs": {name: tensor} | tensor}`` → ``{"outputs": {name: tensor} | tensor}``. Each
input is concatenated along dim 0 and each output cut along dim 0, so a columnar call merges only when
every input has the same dim 0 (its batch size); an output whose dim 0 is not the batch's total cannot be
attributed and fails the batch. Batching columnar calls assumes dim 0 is the batch for every input of the
signature, which is why batching is enabled per route.

Never merged: different ``signature_name`` or any other field, named inputs that differ, or values whose
non-batch shape or JSON kind (number, string, ``{"b64": ...}``, object) differs; a call whose own rows
disagree is sent alone so that only its caller gets TF Serving's error. Shapes are read along the first
element of each level, so the check costs the depth of a value, not its size.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from inferlane.stages.batching.mergers.base import MergeError, chunk_spans, expect_count, fields_except, spans


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {"b64"}


def _shape(value: Any) -> tuple[Hashable, ...]:
    """Dimensions along first elements, then the leaf's JSON kind."""
    dims: list[Hashable] = []
    while isinstance(value, list):
        dims.append(len(value))
        if not value:
            return (*dims, "empty")
        value = value[0]
    if _is_b64(value):
        kind = "b64"
    elif isinstance(value, bool | str | dict):
        kind = type(value).__name__
    else:
        kind = "number" if isinstance(value, int | float) else "null"
    return (*dims, kind)


def _row_signature(row: Any) -> Hashable:
    if isinstance(row, dict) and not _is_b64(row):
        return tuple(sorted((name, _shape(value)) for name, value in row.items()))
    return _shape(row)


def _columns(inputs: Any) -> dict[str, Any] | None:
    """Named columns (a bare tensor is named ``""``), or ``None`` when they have no common dim 0."""
    columns = inputs if isinstance(inputs, dict) and not _is_b64(inputs) else {"": inputs}
    if not columns or not all(isinstance(tensor, list) and tensor for tensor in columns.values()):
        return None
    return columns if len({len(tensor) for tensor in columns.values()}) == 1 else None


def _columns_of(body: dict[str, Any]) -> dict[str, Any]:
    columns = _columns(body["inputs"])
    if columns is None:
        raise ValueError("not a mergeable TF Serving columnar body")
    return columns


def _unwrap(columns: dict[str, Any], like: Any) -> Any:
    return columns[""] if not isinstance(like, dict) else columns


def _cut(tensors: Any, total: int, sizes: Sequence[int]) -> list[Any]:
    """Cut an output (one tensor or named tensors) along dim 0 into runs of ``sizes``."""
    columns = tensors if isinstance(tensors, dict) else {"": tensors}
    for name, tensor in columns.items():
        if not isinstance(tensor, list):
            raise MergeError(f"batching: the upstream's output {name!r} has no batch dimension")
        expect_count(f"rows of output {name!r}", len(tensor), total)
    return [
        _unwrap({name: tensor[start:end] for name, tensor in columns.items()}, tensors)
        for start, end in spans(sizes)
    ]


class TfServingMerger:
    """Both formats; a body's format is part of its key, so the two never mix."""

    __slots__ = ()

    def key(self, body: dict[str, Any]) -> Hashable | None:
        if "instances" in body and "inputs" not in body:
            rows = body["instances"]
            if not isinstance(rows, list) or not rows:
                return None
            signature = _row_signature(rows[0])
            if any(_row_signature(row) != signature for row in rows):
                return None
            return ("tf-rows", signature, fields_except(body, "instances"))
        if "inputs" in body and "instances" not in body:
            columns = _columns(body["inputs"])
            if columns is None:
                return None
            shapes = tuple(sorted((name, _shape(tensor)[1:]) for name, tensor in columns.items()))
            return ("tf-columns", isinstance(body["inputs"], dict), shapes, fields_except(body, "inputs"))
        return None

    def size(self, body: dict[str, Any]) -> int:
        if "instances" in body:
            return len(body["instances"])
        return len(next(iter(_columns_of(body).values())))

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
        first = bodies[0]
        if "instances" in first:
            return {**first, "instances": [row for body in bodies for row in body["instances"]]}
        columns = [_columns_of(body) for body in bodies]
        merged = {name: [row for column in columns for row in column[name]] for name in columns[0]}
        return {**first, "inputs": _unwrap(merged, first["inputs"])}

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]:
        sizes = [self.size(body) for body in bodies]
        field = "predictions" if "instances" in bodies[0] else "outputs"
        if not isinstance(response, dict) or field not in response:
            raise MergeError(f"batching: the upstream's predict answer has no {field!r}")
        return [{**response, field: part} for part in _cut(response[field], sum(sizes), sizes)]

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]:
        size = self.size(body)
        if size <= max_items:
            return [body]
        field = "instances" if "instances" in body else "inputs"
        sizes = [end - start for start, end in chunk_spans(size, max_items)]
        return [{**body, field: part} for part in _cut(body[field], size, sizes)]

    def reassemble(self, responses: Sequence[Any]) -> Any:
        first = responses[0]
        field = "predictions" if "predictions" in first else "outputs"
        parts = [response[field] for response in responses]
        if not isinstance(parts[0], dict):
            return {**first, field: [row for part in parts for row in part]}
        return {**first, field: {name: [row for part in parts for row in part[name]] for name in parts[0]}}
