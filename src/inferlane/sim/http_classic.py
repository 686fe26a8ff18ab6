"""Classic model servers: TEI (``/embed``, ``/rerank``, ``/info``), TF Serving REST (``:predict``) and the
KServe Open Inference Protocol v2 (``/v2/models/{name}/infer``). All share the batch-cost device."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from inferlane.sim import tokens, vectors
from inferlane.sim.context import ReplicaContext, json_response, read_json
from inferlane.sim.fault_http import send_body
from inferlane.sim.problems import ApiError

_V2_TYPES = frozenset({"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                       "FP16", "FP32", "FP64", "BYTES"})  # fmt: skip


# -- TEI -------------------------------------------------------------------------------------------
async def tei_embed(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    inputs = body.get("inputs")
    texts = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ApiError(422, "`inputs` must be a string or a non-empty list of strings")
    _check_batch(ctx, len(texts))
    seqs = [tokens.from_text(t) for t in texts]
    await ctx.device.run(len(seqs), sum(s.count for s in seqs))
    vecs = [vectors.embedding(s.data, ctx.spec.embedding_dimensions) for s in seqs]
    return await send_body(request, orjson.dumps(vecs))


async def tei_rerank(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    query, texts = body.get("query"), body.get("texts")
    if (
        not isinstance(query, str)
        or not isinstance(texts, list)
        or not all(isinstance(t, str) for t in texts)
    ):
        raise ApiError(422, "`query` must be a string and `texts` a list of strings")
    if not texts:
        raise ApiError(413, "`texts` cannot be empty")
    _check_batch(ctx, len(texts))
    await ctx.device.run(len(texts), sum(tokens.count_text(query + t) for t in texts))
    ranks = []
    for index, text in enumerate(texts):
        rank: dict[str, Any] = {"index": index, "score": vectors.relevance(query, text)}
        if body.get("return_text"):
            rank["text"] = text
        ranks.append(rank)
    ranks.sort(key=lambda r: -float(r["score"]))
    return await send_body(request, orjson.dumps(ranks))


async def tei_info(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    return json_response({
        "model_id": ctx.model, "model_sha": None, "model_dtype": "float16",
        "model_type": {"embedding": {"pooling": "mean"}}, "max_concurrent_requests": 512,
        "max_input_length": ctx.max_model_len, "max_batch_tokens": 16384, "max_batch_requests": None,
        "max_client_batch_size": ctx.spec.max_client_batch_size, "tokenization_workers": 1,
        "version": "1.5.0", "sha": None, "docker_label": None,
    })  # fmt: skip


def _check_batch(ctx: ReplicaContext, size: int) -> None:
    limit = ctx.spec.max_client_batch_size
    if size > limit:
        raise ApiError(413, f"batch size {size} > maximum allowed batch size {limit}")


# -- TF Serving ------------------------------------------------------------------------------------
def _tf_target(ctx: ReplicaContext, tail: str) -> tuple[str, str | None, str | None]:
    """``name[/versions/v][:verb]`` -> (name, version, verb); 404 for another model."""
    path, _, verb = tail.partition(":")
    name, _, rest = path.partition("/versions/")
    if name != ctx.model:
        raise ApiError(404, f"Servable not found for request: Latest({name})")
    version = rest or None
    if version is not None and version != ctx.spec.model_version:
        raise ApiError(404, f"Servable not found for request: Specific({name}, {version})")
    return name, version, verb or None


async def tf_get(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    name, _, _ = _tf_target(ctx, request.match_info["tail"].removesuffix("/metadata"))
    if request.path.endswith("/metadata"):
        spec = {"name": name, "signature_name": "", "version": ctx.spec.model_version}
        signatures: dict[str, object] = {"signature_def": {"signature_def": {"serving_default": {}}}}
        return json_response({"model_spec": spec, "metadata": signatures})
    status = {"version": ctx.spec.model_version, "state": "AVAILABLE",
              "status": {"error_code": "OK", "error_message": ""}}  # fmt: skip
    return json_response({"model_version_status": [status]})


async def tf_predict(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    _, _, verb = _tf_target(ctx, request.match_info["tail"])
    if verb not in ("predict", "classify", "regress"):
        raise ApiError(400, f"unsupported verb {verb!r}: use :predict")
    body = await read_json(request)
    dims = ctx.spec.output_dimensions
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise ApiError(400, "'instances' must be a non-empty list")
        await ctx.device.run(len(rows), len(rows))
        predictions = [vectors.prediction(orjson.dumps(r), dims) for r in rows]
        return await send_body(request, orjson.dumps({"predictions": predictions}))
    if "inputs" in body:
        columns = body["inputs"]
        first = next(iter(columns.values()), None) if isinstance(columns, dict) else columns
        if not isinstance(first, list) or not first:
            raise ApiError(400, "'inputs' must be a non-empty list or a map of non-empty lists")
        rows_n = len(first)
        await ctx.device.run(rows_n, rows_n)
        outputs = [vectors.prediction(orjson.dumps([i, first[i]]), dims) for i in range(rows_n)]
        return await send_body(request, orjson.dumps({"outputs": outputs}))
    raise ApiError(400, "Missing 'instances' or 'inputs' key")


# -- KServe v2 -------------------------------------------------------------------------------------
def _v2_model(ctx: ReplicaContext, request: web.Request) -> None:
    name = request.match_info["name"]
    version = request.match_info.get("version")
    if name != ctx.model or (version is not None and version != ctx.spec.model_version):
        raise ApiError(404, f"Model with name {name} does not exist.")


async def v2_metadata(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    _v2_model(ctx, request)
    return json_response({
        "name": ctx.model, "versions": [ctx.spec.model_version], "platform": "inferlane-sim",
        "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, -1]}],
        "outputs": [{"name": "output-0", "datatype": "FP32", "shape": [-1, ctx.spec.output_dimensions]}],
    })  # fmt: skip


async def v2_model_ready(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    _v2_model(ctx, request)
    return json_response({"name": ctx.model, "ready": ctx.phase == "ready"})


def _flatten(data: object) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    out: list[Any] = []
    for item in data:
        out.extend(_flatten(item))
    return out


def _v2_batch(inputs: object) -> tuple[int, list[Any]]:
    if not isinstance(inputs, list) or not inputs:
        raise ApiError(400, "'inputs' must be a non-empty list of tensors")
    first: list[Any] = []
    batch = 0
    for tensor in inputs:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise ApiError(400, "each input tensor needs 'name', 'shape', 'datatype' and 'data'")
        shape, dtype = tensor.get("shape"), tensor.get("datatype")
        if not isinstance(shape, list) or not shape or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ApiError(400, f"input '{tensor['name']}': 'shape' must be a list of non-negative integers")
        if dtype not in _V2_TYPES:
            raise ApiError(400, f"input '{tensor['name']}': unsupported datatype {dtype!r}")
        flat = _flatten(tensor.get("data"))
        if len(flat) != math.prod(shape):
            raise ApiError(400, f"input '{tensor['name']}': shape {shape} needs {math.prod(shape)} values, "
                           f"got {len(flat)}")  # fmt: skip
        if not first:
            first, batch = flat, shape[0]
    return batch, first


async def v2_infer(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    _v2_model(ctx, request)
    body = await read_json(request)
    batch, flat = _v2_batch(body.get("inputs"))
    await ctx.device.run(max(batch, 1), max(batch, 1))
    per_row = len(flat) // batch if batch else 0
    dims = ctx.spec.output_dimensions
    data: list[float] = []
    for row in range(batch):
        data.extend(vectors.prediction(orjson.dumps(flat[row * per_row : (row + 1) * per_row]), dims))
    payload = {"model_name": ctx.model, "model_version": ctx.spec.model_version, "id": body.get("id", ""),
               "parameters": {}, "outputs": [{"name": "output-0", "shape": [batch, dims], "datatype": "FP32",
                                              "data": data}]}  # fmt: skip
    return await send_body(request, orjson.dumps(payload))
