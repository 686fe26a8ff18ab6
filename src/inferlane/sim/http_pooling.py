"""vLLM's pooling and tokenizer endpoints: embeddings, rerank, score, tokenize, detokenize."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from inferlane.sim import tokens, vectors
from inferlane.sim.context import ReplicaContext, read_json
from inferlane.sim.fault_http import send_body
from inferlane.sim.problems import ApiError, context_length_error


def embedding_inputs(value: object) -> list[tokens.TokenSeq]:
    """OpenAI ``input``: a string, a list of strings, token ids, or a list of token-id lists."""
    if isinstance(value, str):
        return [tokens.from_text(value)]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return [tokens.from_text(v) for v in value]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return [tokens.from_ids(value)]
        if all(isinstance(v, list) and v and all(isinstance(t, int) for t in v) for v in value):
            return [tokens.from_ids(v) for v in value]
    raise ApiError(400, "'input' must be a string, a list of strings, or token ids (a list or list of lists)")


def check_lengths(ctx: ReplicaContext, seqs: list[tokens.TokenSeq]) -> int:
    for seq in seqs:
        problem = context_length_error(ctx.max_model_len, seq.count, None)
        if problem is not None:
            raise problem
    return sum(s.count for s in seqs)


async def handle_embeddings(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    ctx.check_awake()
    ctx.resolve_model(body.get("model"))
    seqs = embedding_inputs(body.get("input"))
    total = check_lengths(ctx, seqs)
    dims = body.get("dimensions")
    full = ctx.spec.embedding_dimensions
    if dims is not None and (not isinstance(dims, int) or not 1 <= dims <= full):
        raise ApiError(400, f"'dimensions' must be between 1 and {full} for this model, got {dims!r}")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise ApiError(400, f"'encoding_format' must be 'float' or 'base64', got {fmt!r}")
    await ctx.device.run(len(seqs), total)
    data = []
    for index, seq in enumerate(seqs):
        vector = vectors.embedding(seq.data, full)
        if dims is not None and dims < full:
            vector = vectors.truncate_normalized(vector, dims)
        out: Any = vectors.to_base64(vector) if fmt == "base64" else vector
        data.append({"index": index, "object": "embedding", "embedding": out})
    payload = {
        "id": ctx.request_id("embd"),
        "object": "list",
        "created": ctx.created,
        "model": str(body.get("model") or ctx.model),
        "data": data,
        "usage": {"prompt_tokens": total, "total_tokens": total, "completion_tokens": 0,
                  "prompt_tokens_details": None},
    }  # fmt: skip
    return await send_body(request, orjson.dumps(payload), ctx.orca_header(request))


def _documents(value: object) -> list[str]:
    if isinstance(value, list) and all(isinstance(d, str | dict) for d in value):
        return [d if isinstance(d, str) else str(d.get("text", "")) for d in value]
    raise ApiError(400, "'documents' must be a list of strings (or of objects with 'text')")


async def handle_rerank(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    """vLLM ``/rerank`` and ``/v1/rerank`` (Jina/Cohere shape)."""
    body = await read_json(request)
    ctx.check_awake()
    ctx.resolve_model(body.get("model"))
    query = body.get("query")
    if not isinstance(query, str):
        raise ApiError(400, "'query' must be a string")
    docs = _documents(body.get("documents"))
    seqs = [tokens.from_text(query + d) for d in docs]
    total = check_lengths(ctx, seqs)
    await ctx.device.run(len(docs), total)
    top_n = body.get("top_n") or len(docs)
    if not isinstance(top_n, int) or top_n < 1:
        raise ApiError(400, "'top_n' must be a positive integer")
    ranked = sorted(range(len(docs)), key=lambda i: -vectors.relevance(query, docs[i]))[:top_n]
    results = [
        {"index": i, "document": {"text": docs[i]}, "relevance_score": vectors.relevance(query, docs[i])}
        for i in ranked
    ]
    payload = {"id": ctx.request_id("rerank"), "model": str(body.get("model") or ctx.model),
               "usage": {"total_tokens": total}, "results": results}  # fmt: skip
    return await send_body(request, orjson.dumps(payload), ctx.orca_header(request))


async def handle_score(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    """vLLM ``/score`` and ``/v1/score``: ``text_1`` (one or N) against ``text_2`` (N)."""
    body = await read_json(request)
    ctx.check_awake()
    ctx.resolve_model(body.get("model"))
    first, second = body.get("text_1"), body.get("text_2")
    lefts = [first] if isinstance(first, str) else first
    rights = [second] if isinstance(second, str) else second
    if not (isinstance(lefts, list) and isinstance(rights, list) and lefts and rights):
        raise ApiError(400, "'text_1' and 'text_2' must be strings or non-empty lists of strings")
    if len(lefts) == 1:
        lefts = lefts * len(rights)
    if len(lefts) != len(rights):
        raise ApiError(400, "'text_1' must have one item or as many items as 'text_2'")
    pairs = [(str(a), str(b)) for a, b in zip(lefts, rights, strict=True)]
    total = check_lengths(ctx, [tokens.from_text(a + b) for a, b in pairs])
    await ctx.device.run(len(pairs), total)
    data = [
        {"index": i, "object": "score", "score": vectors.relevance(a, b)} for i, (a, b) in enumerate(pairs)
    ]
    payload = {"id": ctx.request_id("score"), "object": "list", "created": ctx.created,
               "model": str(body.get("model") or ctx.model), "data": data,
               "usage": {"prompt_tokens": total, "total_tokens": total, "completion_tokens": 0,
                         "prompt_tokens_details": None}}  # fmt: skip
    return await send_body(request, orjson.dumps(payload), ctx.orca_header(request))


async def handle_tokenize(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    ctx.resolve_model(body.get("model"))
    if isinstance(body.get("messages"), list):
        text = tokens.render_chat(body["messages"], bool(body.get("add_generation_prompt", True)))
    elif isinstance(body.get("prompt"), str):
        text = body["prompt"]
    else:
        raise ApiError(400, "give 'prompt' (a string) or 'messages' (a list of chat messages)")
    ids = tokens.tokenize(text)
    strs = [tokens.detokenize([i]) for i in ids] if body.get("return_token_strs") else None
    payload = {"count": len(ids), "max_model_len": ctx.max_model_len, "tokens": ids, "token_strs": strs}
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


async def handle_detokenize(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    ctx.resolve_model(body.get("model"))
    ids = body.get("tokens")
    if not isinstance(ids, list) or not all(isinstance(i, int) and i >= 0 for i in ids):
        raise ApiError(400, "'tokens' must be a list of non-negative token ids")
    return web.Response(
        body=orjson.dumps({"prompt": tokens.detokenize(ids)}), content_type="application/json"
    )
