"""Reading and interpreting a request body at the edge: bounded size, bounded time, minimal parsing."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp.web_request import BaseRequest

from inferlane.errors import InvalidJSON, MissingModel, RequestTimeout, RequestTooLarge

#: OpenAI paths whose body must be a JSON object naming a model
MODEL_REQUIRED = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/embeddings"})
#: paths whose body must be JSON when present (the rest may carry any bytes and pass through)
JSON_REQUIRED = MODEL_REQUIRED | {"/v1/rerank", "/rerank", "/v1/score", "/score", "/v2/rerank"}


async def read_body(request: BaseRequest, limit: int, timeout: float) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise RequestTooLarge(
            f"request body too large: {length} bytes exceeds the limit of {limit} bytes (server.maxBodySize)"
        )
    if not request.body_exists:
        return b""
    # fast path: the whole body already arrived with the headers (the common case for small requests)
    buffered = request.content.read_nowait()
    if length is not None and len(buffered) == length:
        return buffered
    chunks: list[bytes] = [buffered] if buffered else []
    size = len(buffered)
    if size > limit:
        raise _too_large(limit)
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError as exc:
        raise RequestTimeout(f"request body not received within {timeout:g}s (server.readTimeout)") from exc
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"request body too large: more than {limit} bytes (server.maxBodySize)")


def parse_json(path: str, method: str, content_type: str, body: bytes) -> dict[str, Any] | None:
    """The parsed body when the pipeline may need it; ``None`` for bodies that just pass through."""
    if not body or method != "POST" or (content_type and "json" not in content_type):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if path in JSON_REQUIRED or content_type:
            raise InvalidJSON(f"invalid JSON in request body: {exc}") from exc
        return None
    if not isinstance(data, dict):
        if path in JSON_REQUIRED:
            raise InvalidJSON("request body must be a JSON object")
        return None
    if path in MODEL_REQUIRED and not isinstance(data.get("model"), str):
        raise MissingModel("you must provide a model parameter")
    return data
