"""Server-sent-event chunks of vLLM's streaming chat/completions answers, built from precomputed bytes."""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


class ChunkEncoder:
    """Encodes one streamed response's chunks; the constant parts are serialized once per response."""

    def __init__(self, chat: bool, rid: str, created: int, model: str) -> None:
        self.chat = chat
        obj = "chat.completion.chunk" if chat else "text_completion"
        head = orjson.dumps({"id": rid, "object": obj, "created": created, "model": model})[:-1]
        self._head = b"data: " + head + b',"choices":[{"index":'
        self._open = b',"delta":{"content":' if chat else b',"text":'
        self._close = b"}" if chat else b""
        self._usage_head = b"data: " + head + b',"choices":[],"usage":'

    def role(self, index: int) -> bytes:
        return (
            self._head + str(index).encode() + b',"delta":{"role":"assistant","content":""},"logprobs":null,'
            b'"finish_reason":null}]}\n\n'
        )

    def token(
        self,
        index: int,
        piece_json: bytes,
        finish: str | None = None,
        stop_reason: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> bytes:
        if finish is None:
            tail = b',"logprobs":null,"finish_reason":null' + (b"" if self.chat else b',"stop_reason":null')
        else:
            tail = (
                b',"logprobs":null,"finish_reason":' + orjson.dumps(finish) + b',"stop_reason":'
                + orjson.dumps(stop_reason)
            )  # fmt: skip
        end = b"}]}\n\n" if usage is None else b'}],"usage":' + orjson.dumps(usage) + b"}\n\n"
        return self._head + str(index).encode() + self._open + piece_json + self._close + tail + end

    def usage(self, usage: dict[str, Any]) -> bytes:
        return self._usage_head + orjson.dumps(usage) + b"}\n\n"
