"""KServe Open Inference Protocol v2, REST ``POST /v2/models/{name}[/versions/{v}]/infer``.

Each input is a tensor ``{"name", "shape", "datatype", "parameters"?, "data"}`` whose dim 0 is the batch.
Merging concatenates every input along dim 0 (shape ``[sum of batches, *rest]``); splitting cuts every
output along dim 0 by each caller's batch size and gives each caller its own ``id`` back (omitted when it
sent none). ``data`` may be flat (row-major, ``prod(shape)`` values) or nested (``shape[0]`` rows); when
callers mix the two, nested data is flattened so the merged tensor is consistent.

Never merged: different input names, datatype, non-batch shape or input ``parameters``; any difference in
the request's ``parameters`` (Triton's ``priority``/``timeout`` included) or requested ``outputs``; binary
tensor data or shared-memory regions; inputs without a common dim 0, and tensors whose data does not match
their shape — those go alone so that only their caller gets the server's error. Every output of a merged
answer must have the batch's total as dim 0, otherwise no caller's rows can be told apart and the whole
batch fails with :class:`~.base.MergeError`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from inferlane.stages.batching.mergers.base import (
    MergeError,
    canonical,
    chunk_spans,
    expect_count,
    fields_except,
    spans,
)

_UNMERGEABLE_PARAMETERS = frozenset(
    {
        "binary_data",
        "binary_data_size",
        "binary_data_output",
        "shared_memory_region",
        "shared_memory_byte_size",
    }
)


def _flatten(data: list[Any]) -> list[Any]:
    if not data or not isinstance(data[0], list):
        return data
    return [value for row in data for value in _flatten(row)]


def _tensor_ok(tensor: Any) -> bool:
    """A dict tensor whose shape is a non-empty list of sizes and whose data matches it."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        return False
    shape, data, parameters = tensor.get("shape"), tensor.get("data"), tensor.get("parameters") or {}
    if not isinstance(shape, list) or not shape or not all(type(dim) is int and dim >= 0 for dim in shape):
        return False
    if (
        not isinstance(data, list)
        or not isinstance(parameters, dict)
        or _UNMERGEABLE_PARAMETERS & parameters.keys()
    ):
        return False
    nested = bool(data) and isinstance(data[0], list)
    return len(data) == (shape[0] if nested else math.prod(shape))


def _rows(tensor: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    """Rows ``start:end`` (along dim 0) of a well-formed tensor."""
    shape, data = tensor["shape"], tensor["data"]
    if data and isinstance(data[0], list):
        part = data[start:end]
    else:
        width = math.prod(shape[1:])
        part = data[start * width : end * width]
    return {**tensor, "shape": [end - start, *shape[1:]], "data": part}


def _concat(tensors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Tensors joined along dim 0 (flattened when nested and flat data are mixed)."""
    datas = [tensor["data"] for tensor in tensors]
    nested = [bool(data) and isinstance(data[0], list) for data in datas]
    if any(nested) and not all(nested):
        datas = [_flatten(data) for data in datas]
    shape = [sum(tensor["shape"][0] for tensor in tensors), *tensors[0]["shape"][1:]]
    return {**tensors[0], "shape": shape, "data": [value for data in datas for value in data]}


def _with_id(response: dict[str, Any], body: dict[str, Any], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    answer = {name: value for name, value in response.items() if name != "id"}
    if "id" in body:
        answer["id"] = body["id"]
    answer["outputs"] = outputs
    return answer


def _keys_within(*values: Any) -> set[str]:
    """Every object key found anywhere in these JSON values (to spot binary/shared-memory extensions)."""
    found: set[str] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.update(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


class KServeV2Merger:
    __slots__ = ()

    def key(self, body: dict[str, Any]) -> Hashable | None:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs or not all(_tensor_ok(tensor) for tensor in inputs):
            return None
        if len({tensor["name"] for tensor in inputs}) != len(inputs):
            return None
        if len({tensor["shape"][0] for tensor in inputs}) != 1 or inputs[0]["shape"][0] == 0:
            return None
        if _UNMERGEABLE_PARAMETERS & _keys_within(body.get("parameters"), body.get("outputs")):
            return None
        signature = tuple(
            sorted(
                (t["name"], str(t.get("datatype")), tuple(t["shape"][1:]), canonical(t.get("parameters")))
                for t in inputs
            )
        )
        return ("kserve-v2", signature, fields_except(body, "id", "inputs"))

    def size(self, body: dict[str, Any]) -> int:
        return int(body["inputs"][0]["shape"][0])

    def merge(self, bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
        first = bodies[0]
        named = [{tensor["name"]: tensor for tensor in body["inputs"]} for body in bodies]
        inputs = [_concat([tensors[tensor["name"]] for tensors in named]) for tensor in first["inputs"]]
        merged = {name: value for name, value in first.items() if name != "id"}
        merged["inputs"] = inputs
        return merged

    def split(self, response: Any, bodies: Sequence[dict[str, Any]]) -> list[Any]:
        outputs = response.get("outputs") if isinstance(response, dict) else None
        if not isinstance(outputs, list):
            raise MergeError("batching: the upstream's v2 infer answer has no outputs list")
        sizes = [self.size(body) for body in bodies]
        total = sum(sizes)
        for output in outputs:
            if not _tensor_ok(output):
                raise MergeError(
                    "batching: the upstream's v2 output has a shape that does not match its data"
                )
            expect_count(f"rows of output {output['name']!r}", output["shape"][0], total)
        return [
            _with_id(response, body, [_rows(output, start, end) for output in outputs])
            for body, (start, end) in zip(bodies, spans(sizes), strict=True)
        ]

    def split_oversized(self, body: dict[str, Any], max_items: int) -> list[dict[str, Any]]:
        size = self.size(body)
        if size <= max_items:
            return [body]
        return [
            {**body, "inputs": [_rows(tensor, start, end) for tensor in body["inputs"]]}
            for start, end in chunk_spans(size, max_items)
        ]

    def reassemble(self, responses: Sequence[Any]) -> Any:
        first = responses[0]
        outputs = [
            _concat([response["outputs"][i] for response in responses]) for i in range(len(first["outputs"]))
        ]
        return {**first, "outputs": outputs}
