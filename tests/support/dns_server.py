"""A tiny authoritative DNS server on loopback UDP for discovery tests: answers from a mutable table."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from inferlane.discovery.dns_wire import NXDOMAIN, TYPE_NAMES, Record, encode_answer

Key = tuple[str, str]


@dataclass
class DnsServer:
    #: (name, type) -> records answered; a name absent from every key is NXDOMAIN
    records: dict[Key, list[Record]] = field(default_factory=dict)
    additional: dict[Key, list[Record]] = field(default_factory=dict)
    queries: list[Key] = field(default_factory=list)
    silent: bool = False
    port: int = 0
    _transport: asyncio.BaseTransport | None = None

    async def start(self) -> DnsServer:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, query: bytes) -> bytes | None:
        offset, labels = 12, []
        while query[offset]:
            labels.append(query[offset + 1 : offset + 1 + query[offset]].decode())
            offset += 1 + query[offset]
        qtype = TYPE_NAMES.get(int.from_bytes(query[offset + 1 : offset + 3], "big"), "?")
        key = (".".join(labels), qtype)
        self.queries.append(key)
        if self.silent:
            return None
        if not any(name == key[0] for name, _ in self.records):
            return encode_answer(query, [], rcode=NXDOMAIN)
        return encode_answer(query, self.records.get(key, []), self.additional.get(key, []))

    def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self.server.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
