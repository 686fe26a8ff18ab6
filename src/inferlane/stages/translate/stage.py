"""The ``translate`` interceptor (order 150): when the route asked for ``completionsToChat``, sends the
completions request upstream as a chat request and turns the answer back into the completions shape,
chunk by chunk for streams. Other requests pass through untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from inferlane.errors import BadRequest, UpstreamProtocolError
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.stages.translate.completions import (
    ChunkTranslator,
    Untranslatable,
    chat_request,
    completion_response,
)
from inferlane.stages.translate.sse import EventRewriter
from inferlane.upstream.answer import read_answer

if TYPE_CHECKING:
    from inferlane.pipeline.registry import BuildContext

COMPLETIONS_TO_CHAT = "completionsToChat"
#: a non-streamed answer that arrives without a length is read whole up to this size
MAX_ANSWER_BYTES = 64 * 1024 * 1024


def translate_stage(build: BuildContext) -> TranslateStage | None:
    """Only built when some route translates, so other configs pay nothing."""
    routes = build.config.routing.endpoints
    return TranslateStage() if any(r.translate is not None for r in routes) else None


class TranslateStage:
    name = "translate"

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        body = ctx.json
        if ctx.extra.get("translate") != COMPLETIONS_TO_CHAT or body is None or "prompt" not in body:
            return await call_next(ctx)
        try:
            chat = chat_request(body)
        except Untranslatable as exc:
            raise BadRequest(f"route {ctx.route!r} sends completions to a chat model: {exc}") from exc
        ctx.json = chat
        ctx.body = orjson.dumps(chat)
        ctx.upstream_path = chat_target(ctx.upstream_path)
        # the answer is decoded to be translated: ask for it uncompressed
        ctx.upstream_headers["accept-encoding"] = "identity"
        response = await call_next(ctx)
        if response.status != 200:
            return response
        if response.stream is not None and response.is_event_stream:
            response.stream = _translated_events(response.stream)
            return response
        return await _translated_whole(response)


def chat_target(target: str) -> str:
    """``/v1/completions?x`` → ``/v1/chat/completions?x``; a path already rewritten elsewhere is kept."""
    path, sep, query = target.partition("?")
    if path.endswith("/completions") and not path.endswith("/chat/completions"):
        path = path.removesuffix("/completions") + "/chat/completions"
    return path + sep + query


async def _translated_events(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    translator = ChunkTranslator()
    events = EventRewriter(translator.chunk)
    async for chunk in stream:
        out = events.feed(chunk)
        if out:
            yield out
    tail = events.finish()
    if tail:
        yield tail


async def _translated_whole(response: ProxyResponse) -> ProxyResponse:
    body = await read_answer(response, MAX_ANSWER_BYTES, UpstreamProtocolError, "chat answer")
    try:
        chat: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError("chat model answered with invalid JSON; cannot translate it") from exc
    if not isinstance(chat, dict):
        raise UpstreamProtocolError("chat model answered with a JSON value that is not an object")
    response.body = orjson.dumps(completion_response(chat))
    return response
