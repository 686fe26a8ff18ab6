"""A minimal keep-alive HTTP/1.1 client on raw asyncio streams, so the load generator costs little."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

CHAT_BODY = (
    b'{"model":"bench","max_tokens":64,"messages":'
    b'[{"role":"system","content":"You are a helpful assistant."},'
    b'{"role":"user","content":"' + b"hello " * 150 + b'"}]}'
)


def request_bytes(path: str, body: bytes, port: int, stream: bool = False, auth: str | None = None) -> bytes:
    if stream:
        body = body[:-1] + b',"stream":true}'
    extra = f"Authorization: Bearer {auth}\r\n" if auth else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass
class Timing:
    first_byte: float
    total: float
    status: int


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @staticmethod
    async def open(port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return Connection(reader, writer)

    async def exchange(self, payload: bytes, timeout: float = 30.0) -> Timing:
        start = time.perf_counter()
        self.writer.write(payload)
        async with asyncio.timeout(timeout):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lowered = head.lower()
            if b"transfer-encoding: chunked" in lowered:
                first = await self._chunked(start)
            else:
                length = int(lowered.split(b"content-length:")[1].split(b"\r\n")[0])
                await self.reader.readexactly(length)
                first = time.perf_counter() - start
        return Timing(first, time.perf_counter() - start, status)

    async def _chunked(self, start: float) -> float:
        first: float | None = None
        while True:
            size = int((await self.reader.readuntil(b"\r\n"))[:-2], 16)
            await self.reader.readexactly(size + 2)
            if first is None:
                first = time.perf_counter() - start
            if size == 0:
                return first

    def close(self) -> None:
        self.writer.close()
