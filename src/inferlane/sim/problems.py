"""Error responses in the shapes real servers use: vLLM's OpenAI error JSON, TEI's, TF Serving's, KServe's."""

from __future__ import annotations

import orjson
from aiohttp import web

_TYPES = {
    400: "BadRequestError",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFoundError",
    408: "RequestTimeout",
    413: "RequestEntityTooLarge",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
ENGINE_DEAD_MESSAGE = "EngineCore encountered an issue. See stack trace (above) for the root cause."


class ApiError(Exception):
    """An error to answer with; the replica's kind decides the body shape."""

    def __init__(self, status: int, message: str, err_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.err_type = err_type or _TYPES.get(status, "InternalServerError")


def vllm_error_body(status: int, message: str, err_type: str | None = None) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` as vLLM (≥ 0.10) returns it."""
    kind = err_type or _TYPES.get(status, "InternalServerError")
    return orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": status}})


def error_response(kind: str, error: ApiError) -> web.Response:
    if kind == "tei":
        tei_type = {413: "validation", 422: "tokenizer", 429: "overloaded", 503: "unhealthy"}
        body = orjson.dumps({"error": error.message, "error_type": tei_type.get(error.status, "backend")})
    elif kind in ("tfserving", "kserve"):
        body = orjson.dumps({"error": error.message})
    else:
        body = vllm_error_body(error.status, error.message, error.err_type)
    return web.Response(status=error.status, body=body, content_type="application/json")


def context_length_error(max_model_len: int, prompt_tokens: int, max_tokens: int | None) -> ApiError | None:
    """vLLM's two context-length messages (prompt alone too long; prompt + max_tokens too long)."""
    if prompt_tokens >= max_model_len:
        return ApiError(
            400,
            f"This model's maximum context length is {max_model_len} tokens. However, your request has "
            f"{prompt_tokens} input tokens. Please reduce the length of the input messages.",
        )
    if max_tokens is not None and prompt_tokens + max_tokens > max_model_len:
        return ApiError(
            400,
            f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's maximum "
            f"context length is {max_model_len} tokens and your request has {prompt_tokens} input tokens "
            f"({max_tokens} > {max_model_len} - {prompt_tokens}).",
        )
    return None


def model_not_found(model: str) -> ApiError:
    return ApiError(404, f"The model `{model}` does not exist.", "NotFoundError")
