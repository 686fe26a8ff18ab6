"""Completions ⇄ chat translation, pure: a ``/v1/completions`` request becomes a ``/v1/chat/completions``
request, and the chat answer (whole or streamed) becomes the completions answer the client asked for.

Request: ``prompt`` → one user message; ``logprobs: N`` → ``logprobs: true, top_logprobs: N``; the
completions default of 16 ``max_tokens`` is made explicit (chat has none); every other parameter
(``max_tokens``, ``temperature``, ``top_p``, ``n``, ``stop``, ``stream``, ``stream_options``, penalties,
``logit_bias``, ``seed``, ``user`` and engine extras such as ``top_k``) is passed as it is. What chat cannot
express (``echo``, ``suffix``, ``best_of`` > 1, several prompts, token-id prompts) is refused with a 400.

Response: ``chat.completion`` → ``text_completion`` (``message.content`` → ``text``, chat logprobs →
completions logprobs with text offsets), stream chunks likewise; the role-only first chunk is dropped.
"""

from __future__ import annotations

from typing import Any

#: the OpenAI (and vLLM) completions default, which chat does not share
COMPLETIONS_DEFAULT_MAX_TOKENS = 16
_DROPPED = frozenset({"prompt", "echo", "suffix", "best_of", "logprobs"})


class Untranslatable(ValueError):
    """The completions request uses something chat cannot express."""


def chat_request(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            raise Untranslatable("only a single prompt can be sent to a chat model, got a list of prompts")
        raise Untranslatable("'prompt' must be a string: token-id prompts cannot be sent to a chat model")
    if body.get("echo"):
        raise Untranslatable("'echo' is not supported when the request is sent to a chat model")
    if body.get("suffix"):
        raise Untranslatable("'suffix' is not supported when the request is sent to a chat model")
    best_of = body.get("best_of")
    if best_of is not None and best_of != 1 and best_of != body.get("n", 1):
        raise Untranslatable("'best_of' is not supported when the request is sent to a chat model")
    chat = {key: value for key, value in body.items() if key not in _DROPPED}
    chat["messages"] = [{"role": "user", "content": prompt}]
    chat.setdefault("max_tokens", COMPLETIONS_DEFAULT_MAX_TOKENS)
    logprobs = body.get("logprobs")
    if isinstance(logprobs, int) and not isinstance(logprobs, bool):
        chat["logprobs"] = True
        chat["top_logprobs"] = logprobs
    return chat


def completion_response(chat: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in chat.get("choices") or ():
        message = choice.get("message") or {}
        text = message.get("content") or ""
        out = {
            "index": choice.get("index", 0),
            "text": text,
            "logprobs": completion_logprobs(choice.get("logprobs"), 0),
            "finish_reason": choice.get("finish_reason"),
        }
        if "stop_reason" in choice:
            out["stop_reason"] = choice["stop_reason"]
        choices.append(out)
    return _envelope(chat, choices)


class ChunkTranslator:
    """Translates one stream's chat chunks; remembers each choice's text offset for logprobs."""

    __slots__ = ("_offsets",)

    def __init__(self) -> None:
        self._offsets: dict[int, int] = {}

    def chunk(self, chat: dict[str, Any]) -> dict[str, Any] | None:
        """The completions chunk, or ``None`` when the chat chunk carries nothing for a completions
        client (the role-only first chunk)."""
        choices = []
        for choice in chat.get("choices") or ():
            delta = choice.get("delta") or {}
            text = delta.get("content") or ""
            finish, chat_logprobs = choice.get("finish_reason"), choice.get("logprobs")
            if not text and finish is None and not chat_logprobs:
                continue
            index = choice.get("index", 0)
            offset = self._offsets.get(index, 0)
            self._offsets[index] = offset + len(text)
            out = {
                "index": index,
                "text": text,
                "logprobs": completion_logprobs(chat_logprobs, offset),
                "finish_reason": finish,
            }
            if "stop_reason" in choice:
                out["stop_reason"] = choice["stop_reason"]
            choices.append(out)
        if not choices and not chat.get("usage"):
            return None
        return _envelope(chat, choices)


def completion_logprobs(chat: Any, offset: int) -> dict[str, Any] | None:
    """Chat ``{"content": [{token, logprob, top_logprobs}]}`` → completions ``tokens``,
    ``token_logprobs``, ``top_logprobs`` and ``text_offset`` (starting at ``offset``)."""
    if not isinstance(chat, dict) or not isinstance(chat.get("content"), list):
        return None
    tokens, token_logprobs, top, offsets = [], [], [], []
    for entry in chat["content"]:
        token = entry.get("token", "")
        tokens.append(token)
        token_logprobs.append(entry.get("logprob"))
        top.append({t.get("token", ""): t.get("logprob") for t in entry.get("top_logprobs") or ()})
        offsets.append(offset)
        offset += len(token)
    return {"tokens": tokens, "token_logprobs": token_logprobs, "top_logprobs": top, "text_offset": offsets}


def _envelope(chat: dict[str, Any], choices: list[dict[str, Any]]) -> dict[str, Any]:
    rid = chat.get("id")
    if isinstance(rid, str) and rid.startswith("chatcmpl-"):
        rid = "cmpl-" + rid.removeprefix("chatcmpl-")
    out: dict[str, Any] = {
        "id": rid,
        "object": "text_completion",
        "created": chat.get("created"),
        "model": chat.get("model"),
        "choices": choices,
    }
    for key in ("system_fingerprint", "usage"):
        if key in chat:
            out[key] = chat[key]
    return out
