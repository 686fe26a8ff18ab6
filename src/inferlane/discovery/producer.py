"""The contract of an endpoint producer: something that keeps publishing a backend's endpoint set.

A producer runs as one background task owned by its backend and calls ``publish`` with a whole new
endpoint tuple whenever the set changes; the pool swaps its snapshot in one assignment (endpoints that stay
keep their state: connections, breaker, health, load signals, prefix index entries). Static lists need no
producer; DNS (discovery/dns.py) is one; Kubernetes EndpointSlices will be another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from inferlane.model import Endpoint

Publish = Callable[[tuple[Endpoint, ...]], None]


class EndpointProducer(Protocol):
    #: short name for logs and task names ("dns", "kubernetes")
    kind: str

    async def run(self, publish: Publish) -> None:
        """Publish endpoint sets until cancelled; never raises for a failed lookup (keeps the last set)."""
        ...
