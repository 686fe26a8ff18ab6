"""Core value types shared by every layer: requests, responses, endpoints and snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    """What the HTTP edge received, with the body already read (bounded by ``maxBodySize``)."""

    method: str
    #: decoded path, for matching
    path: str
    #: the raw request target (path and query) exactly as received, for forwarding
    target: str
    headers: Mapping[str, str]
    body: bytes
    client_ip: str
    received_at: float


@dataclass(slots=True)
class ProxyResponse:
    """A response for the edge to write: a whole body, or a stream of chunks relayed as they arrive.

    ``close`` releases whatever the stream holds (the upstream connection); the edge always calls it.
    ``stream`` may raise :class:`inferlane.errors.InferlaneError` mid-stream; the edge then ends the
    response cleanly (an SSE error event for event streams).
    """

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    #: the endpoint that produced it, for logs and response headers
    endpoint: Endpoint | None = None

    @property
    def is_event_stream(self) -> bool:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.startswith("text/event-stream")
        return False


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One model-server address in a backend pool."""

    backend: str
    url: str
    weight: int = 1
    #: ``host:port`` and ``backend/host:port``, computed once (picking reads them for every candidate)
    authority: str = field(init=False, repr=False, compare=False)
    id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        authority = urlsplit(self.url).netloc
        object.__setattr__(self, "authority", authority)
        object.__setattr__(self, "id", f"{self.backend}/{authority}")

    @staticmethod
    def parse(backend: str, url: str, weight: int = 1) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint URL must be http(s)://host[:port], got {url!r}")
        return Endpoint(backend=backend, url=f"{parts.scheme}://{parts.netloc}", weight=weight)


@dataclass(frozen=True, slots=True)
class EndpointSnapshot:
    """An immutable view of a backend's endpoints; producers swap whole snapshots, never mutate one."""

    backend: str
    endpoints: tuple[Endpoint, ...]
    version: int = 0
