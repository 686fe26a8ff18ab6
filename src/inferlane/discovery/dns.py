"""DNS discovery: resolve a backend's endpoints from A/AAAA or SRV records, again and again.

Each round asks the configured name servers (or resolv.conf's, with its search domains) over UDP with a
timeout, builds the endpoint set (SRV targets are taken from the additional section or resolved with
A/AAAA), and publishes it when it changed. The next round comes when the shortest TTL runs out, clamped to
``[minInterval, interval]``. A failed lookup or an empty answer keeps the last good set (fail-static: a DNS
hiccup must not empty a pool) and retries after ``minInterval``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from pathlib import Path

from inferlane.config.picking import DnsDiscoveryConfig
from inferlane.discovery.dns_wire import NXDOMAIN, Answer, DnsFormatError, Record, decode, encode_query
from inferlane.discovery.producer import Publish
from inferlane.model import Endpoint

log = logging.getLogger("inferlane.discovery")
RESOLV_CONF = Path("/etc/resolv.conf")


class DnsError(Exception):
    """No name server gave a usable answer."""


def parse_server(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and (host.count(":") == 0 or host.endswith("]")):
        return host.strip("[]"), int(port)
    return text.strip("[]"), 53


def read_resolv_conf(text: str) -> tuple[list[tuple[str, int]], list[str]]:
    """(name servers, search domains) from resolv.conf text."""
    servers, search = [], []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            servers.append((parts[1], 53))
        elif parts and parts[0] in ("search", "domain"):
            search = parts[1:]
    return servers, search


class _Exchange(asyncio.DatagramProtocol):
    def __init__(self, query_id: int, answer: asyncio.Future[Answer]) -> None:
        self.query_id = query_id
        self.answer = answer

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.answer.done():
            return
        try:
            answer = decode(data)
        except DnsFormatError as error:
            self.answer.set_exception(DnsError(str(error)))
            return
        if answer.id == self.query_id:
            self.answer.set_result(answer)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(DnsError(str(exc)))


class DnsResolver:
    def __init__(
        self,
        servers: list[tuple[str, int]],
        timeout: float,
        rng: random.Random,
        search: Sequence[str] = (),
    ) -> None:
        self.servers = servers
        self.search = list(search)
        self.timeout = timeout
        self.rng = rng

    async def query(self, name: str, qtype: str) -> Answer:
        """Ask each server in turn within the timeout; NXDOMAIN retries with the search domains."""
        names = (
            [name] if name.endswith(".") or not self.search else [name, *(f"{name}.{d}" for d in self.search)]
        )
        answer: Answer | None = None
        for candidate in names:
            answer = await self._ask(candidate, qtype)
            if answer.rcode != NXDOMAIN:
                return answer
        assert answer is not None
        return answer

    async def _ask(self, name: str, qtype: str) -> Answer:
        loop = asyncio.get_running_loop()
        problems = []
        for host, port in self.servers or [("127.0.0.1", 53)]:
            query_id = self.rng.randrange(1 << 16)
            future: asyncio.Future[Answer] = loop.create_future()
            exchange = _Exchange(query_id, future)
            transport = None
            try:
                async with asyncio.timeout(self.timeout):
                    transport, _ = await loop.create_datagram_endpoint(
                        lambda exchange=exchange: exchange,  # type: ignore[misc]
                        remote_addr=(host, port),
                    )
                    transport.sendto(encode_query(query_id, name, qtype))
                    return await future
            except (TimeoutError, OSError, DnsError) as error:
                problems.append(f"{host}:{port}: {type(error).__name__} {error}".strip())
            finally:
                if transport is not None:
                    transport.close()
        raise DnsError(f"DNS {qtype} {name}: " + "; ".join(problems))


class DnsProducer:
    kind = "dns"

    def __init__(self, backend: str, config: DnsDiscoveryConfig, rng: random.Random) -> None:
        self.backend = backend
        self.config = config
        self.rng = rng
        self.resolver: DnsResolver | None = None
        self.rounds = 0
        self.current: tuple[Endpoint, ...] = ()

    async def _make_resolver(self) -> DnsResolver:
        config = self.config
        if config.nameservers:
            return DnsResolver([parse_server(s) for s in config.nameservers], config.timeout, self.rng)
        loop = asyncio.get_running_loop()
        try:
            text = await loop.run_in_executor(None, RESOLV_CONF.read_text)
        except OSError:
            text = ""
        servers, search = read_resolv_conf(text)
        return DnsResolver(servers, config.timeout, self.rng, search)

    async def run(self, publish: Publish) -> None:
        config = self.config
        if self.resolver is None:
            self.resolver = await self._make_resolver()
        while True:
            wait = config.min_interval
            try:
                endpoints, ttl = await self.resolve()
            except (DnsError, ValueError) as error:
                log.warning(
                    "DNS discovery failed; keeping the last endpoints",
                    extra={"backend": self.backend, "error": str(error)},
                )
            else:
                if not endpoints:
                    log.warning(
                        "DNS discovery found no endpoints; keeping the last ones",
                        extra={"backend": self.backend, "dns_name": config.name},
                    )
                elif endpoints != self.current:
                    self.current = endpoints
                    publish(endpoints)
                    log.info(
                        "DNS discovery updated endpoints",
                        extra={"backend": self.backend, "endpoints": [e.authority for e in endpoints]},
                    )
                wait = (
                    min(config.interval, max(config.min_interval, ttl)) if endpoints else config.min_interval
                )
            self.rounds += 1
            await asyncio.sleep(wait)

    async def resolve(self) -> tuple[tuple[Endpoint, ...], float]:
        """One round: the endpoints, sorted, and the shortest TTL among the records used."""
        config = self.config
        if self.resolver is None:
            self.resolver = await self._make_resolver()
        if config.type == "SRV":
            return await self._resolve_srv()
        assert config.port is not None
        records = await self._addresses(config.name)
        return self._endpoints([(r, config.port, 1) for r in records]), _min_ttl(records)

    async def _addresses(self, name: str, known: tuple[Record, ...] = ()) -> list[Record]:
        assert self.resolver is not None
        kinds = ("A", "AAAA") if self.config.type in ("A+AAAA", "SRV") else (self.config.type,)
        found = [r for r in known if r.name.rstrip(".") == name.rstrip(".") and r.type in kinds]
        if found:
            return found
        for kind in kinds:
            answer = await self.resolver.query(name, kind)
            found += [r for r in answer.answers if r.type == kind]
        return found

    async def _resolve_srv(self) -> tuple[tuple[Endpoint, ...], float]:
        assert self.resolver is not None
        answer = await self.resolver.query(self.config.name, "SRV")
        srv = [r for r in answer.answers if r.type == "SRV"]
        used: list[Record] = list(srv)
        targets: list[tuple[Record, int, int]] = []
        for record in srv:
            addresses = await self._addresses(record.value, answer.additional)
            used += addresses
            targets += [(a, record.port, max(1, record.weight)) for a in addresses]
        return self._endpoints(targets), _min_ttl(used)

    def _endpoints(self, targets: list[tuple[Record, int, int]]) -> tuple[Endpoint, ...]:
        scheme = self.config.scheme
        out = {}
        for record, port, weight in targets:
            host = f"[{record.value}]" if record.type == "AAAA" else record.value
            endpoint = Endpoint.parse(self.backend, f"{scheme}://{host}:{port}", weight)
            out[endpoint.url] = endpoint
        return tuple(out[url] for url in sorted(out))


def _min_ttl(records: list[Record]) -> float:
    return float(min((r.ttl for r in records), default=0))
