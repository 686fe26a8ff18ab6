"""Server-sent events re-framed across arbitrary chunk boundaries, with each ``data:`` payload rewritten.
Pure: the caller feeds the bytes it received and writes what comes back."""

from __future__ import annotations

from collections.abc import Callable

import orjson

#: turns one decoded ``data:`` JSON object into the object to send, or ``None`` to drop the event
Rewrite = Callable[[dict[str, object]], dict[str, object] | None]


class EventRewriter:
    __slots__ = ("_buffer", "_rewrite")

    def __init__(self, rewrite: Rewrite) -> None:
        self._rewrite = rewrite
        self._buffer = b""

    def feed(self, data: bytes) -> bytes:
        """The rewritten complete events in ``data`` (plus what was buffered); a partial event waits."""
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return b""
        self._buffer = buffer[end + 2 :]
        out = [self._event(event) for event in buffer[:end].split(b"\n\n")]
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever is left when the upstream ends (an event without its blank line)."""
        rest, self._buffer = self._buffer, b""
        return self._event(rest.rstrip(b"\n")) if rest.strip() else b""

    def _event(self, event: bytes) -> bytes:
        if not event.startswith(b"data:") or b"\ndata:" in event:
            return event + b"\n\n" if event else b""
        payload = event[5:].strip()
        if payload == b"[DONE]":
            return event + b"\n\n"
        try:
            decoded = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return event + b"\n\n"
        if not isinstance(decoded, dict) or "error" in decoded:
            return event + b"\n\n"
        rewritten = self._rewrite(decoded)
        return b"" if rewritten is None else b"data: " + orjson.dumps(rewritten) + b"\n\n"
