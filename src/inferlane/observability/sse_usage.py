"""Watching an OpenAI-style SSE stream as it is relayed (pure: no I/O; the caller passes the clock).

It finds the ``usage`` event, the time of the first token and the number of token events, and can drop the
usage-only event (``"choices":[]``) that the proxy asked for on the client's behalf. Chunks are passed on as
the same bytes objects whenever they end on an event boundary (the usual case); only the event carrying usage
is decoded. A partial event is held back until its end arrives, as an SSE client would. The common chunk —
whole token events, after the first token — costs one ``endswith`` and one ``count``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

from inferlane.observability.usage import Usage, find_model, usage_from

_USAGE = b'"usage"'
_NO_USAGE = b'"usage":null'  # OpenAI puts it on every chunk once usage is requested
#: how a token event ends: its ``choices`` array closes the object (usage, when present, comes after it)
_TOKEN_END = (b"]}\n\n", b"]}\r\n\r\n")
_EVENTS = re.compile(rb"(?<=\n\n)|(?<=\r\n\r\n)")
#: a data line and its value (a greedy class: a lazy ``.*?`` before ``\r?$`` retries at every byte)
_DATA_LINE = re.compile(rb"^data: ?([^\r\n]*)", re.M)


def _boundary(data: bytes) -> int:
    """Index just past the last complete event in ``data``, or -1."""
    lf = data.rfind(b"\n\n")
    crlf = data.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else -1, crlf + 4 if crlf >= 0 else -1)


def _split_events(complete: bytes) -> list[bytes]:
    """The events of ``complete`` (which ends on a boundary), each with its terminating blank line, so that
    joining them gives back the same bytes."""
    if b"\r" not in complete:
        return [part + b"\n\n" for part in complete.split(b"\n\n")[:-1]]
    return [event for event in _EVENTS.split(complete) if event]


def _has_text(event: bytes) -> bool:
    for key in (b'"content":"', b'"text":"', b'"reasoning_content":"'):
        at = event.find(key)
        if at >= 0 and event[at + len(key) : at + len(key) + 1] != b'"':
            return True
    return b'"tool_calls":[{' in event


class SseUsageTap:
    __slots__ = (
        "clock",
        "done",
        "first_token_at",
        "hot",
        "model",
        "pending",
        "strip",
        "stripped",
        "token_events",
        "usage",
    )

    def __init__(self, strip: bool, clock: Callable[[], float]) -> None:
        #: drop the usage-only event (the client did not ask for usage; the proxy did)
        self.strip = strip
        #: read once, when the first token arrives
        self.clock = clock
        self.stripped = False
        self.usage: Usage | None = None
        self.first_token_at: float | None = None
        #: the first token was seen and no partial event is held: the next chunk may take the hot path
        self.hot = False
        #: data events that carried generated tokens (one per token for vLLM-style engines)
        self.token_events = 0
        self.done = False
        #: the model the first event names (``gen_ai.response.model``)
        self.model: str | None = None
        self.pending = b""

    def feed(self, chunk: bytes) -> bytes:
        """The bytes to relay for ``chunk`` (may be empty while an event is incomplete)."""
        if self.hot and chunk.endswith(b"]}\n\n"):
            # the hot path: whole token events; one ending in ``]}`` carries no usage (usage follows choices)
            self.token_events += chunk.count(b"\n\n")
            return chunk
        out = self._feed(chunk)
        self.hot = self.first_token_at is not None and not self.pending
        return out

    def _feed(self, chunk: bytes) -> bytes:
        data = self.pending + chunk if self.pending else chunk
        cut = len(data) if data.endswith(b"\n\n") else _boundary(data)  # the usual case: whole events
        if cut < 0:
            self.pending = data
            return b""
        if cut == len(data):
            complete, self.pending = data, b""
        else:
            complete, self.pending = data[:cut], data[cut:]
        if self.first_token_at is not None and complete.endswith(_TOKEN_END):
            # reads that split events (coalesced or cut by the network) still take the cheap path
            self.token_events += complete.count(b"\n\n") or complete.count(b"\r\n\r\n")
            return complete
        return self._events(complete)

    def finish(self) -> bytes:
        """What is left when the upstream ends: an unterminated last event, relayed as it came."""
        rest, self.pending = self.pending, b""
        return rest

    def _events(self, complete: bytes) -> bytes:
        kept: list[bytes] = []
        dropped = False
        for event in _split_events(complete):
            if self.first_token_at is not None and event.endswith(_TOKEN_END):
                self.token_events += 1  # a token event after the first: nothing to read in it
                kept.append(event)
                continue
            match = _DATA_LINE.search(event)
            if match is None:  # a comment or a field other than data
                kept.append(event)
                continue
            payload = match.group(1)
            if self.model is None:
                self.model = find_model(payload)
            if payload == b"[DONE]":
                self.done = True
            elif _USAGE in payload and _NO_USAGE not in payload and self._usage_only(payload):
                if self.strip:
                    self.stripped = dropped = True
                    continue
            elif self.first_token_at is not None or b'"role"' not in payload or _has_text(payload):
                if self.first_token_at is None:
                    self.first_token_at = self.clock()
                self.token_events += 1
            kept.append(event)
        return b"".join(kept) if dropped else complete

    def _usage_only(self, payload: bytes) -> bool:
        """Record the usage this event carries; True when it carries nothing else (no choices)."""
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(obj, dict):
            return False
        usage = usage_from(obj.get("usage"))
        if usage is None:
            return False
        self.usage = usage
        return not obj.get("choices")
