"""Near-zero-cost upstreams for the overhead benchmark (raw asyncio on uvloop, no framework).

``python -m bench.upstream_server plain PORT`` answers every request with a ~790-byte chat.completion;
``python -m bench.upstream_server sse PORT [GAP]`` streams 50 chat.completion.chunk events GAP (5 ms) apart,
then [DONE].
"""

from __future__ import annotations

import asyncio
import sys

import uvloop

CONTENT = b"x" * 560
BODY = (
    b'{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"'
    + CONTENT
    + b'"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":200,"completion_tokens":140,"total_tokens":340}}'
)
PLAIN = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNK = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench",'
    b'"choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}\n\n'
)
EVENTS = 50


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Upstream(asyncio.Protocol):
    def __init__(self, mode: str, gap: float) -> None:
        self.mode = mode
        self.gap = gap
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            if self.mode == "plain":
                assert self.transport is not None
                self.transport.write(PLAIN)
            else:
                asyncio.get_running_loop().create_task(self.stream())

    async def stream(self) -> None:
        transport = self.transport
        assert transport is not None
        transport.write(SSE_HEAD + _chunked(CHUNK))
        for _ in range(EVENTS - 1):
            await asyncio.sleep(self.gap)
            if transport.is_closing():
                return
            transport.write(_chunked(CHUNK))
        transport.write(_chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")


async def serve(mode: str, port: int, gap: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Upstream(mode, gap), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.005))
