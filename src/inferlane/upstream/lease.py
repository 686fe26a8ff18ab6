"""One attempt's claim on an endpoint: counts it in flight and records its outcome exactly once."""

from __future__ import annotations

import enum
from typing import Protocol

from inferlane.upstream.endpoint_state import EndpointState


class Result(enum.Enum):
    SUCCESS = "success"
    SERVER_ERROR = "5xx"
    LOCAL_FAILURE = "local_failure"
    #: the attempt ended with no verdict on the endpoint (the client hung up, a retry won elsewhere)
    ABANDONED = "abandoned"


class ResultSink(Protocol):
    def record(self, state: EndpointState, result: Result) -> None: ...


class Lease:
    __slots__ = ("_done", "_sink", "state", "tokens")

    def __init__(self, sink: ResultSink, state: EndpointState, tokens: int = 0) -> None:
        self._sink = sink
        self.state = state
        self.tokens = tokens
        self._done = False
        state.begin(tokens)

    def first_byte(self) -> None:
        """The response started: the prompt is prefilled, so its tokens stop counting as pending work."""
        self.state.prefilled(self.tokens)
        self.tokens = 0

    def finish(self, result: Result) -> None:
        if self._done:
            return
        self._done = True
        self.first_byte()
        self.state.end()
        self._sink.record(self.state, result)

    def finish_status(self, status: int) -> None:
        self.finish(Result.SERVER_ERROR if status >= 500 else Result.SUCCESS)
