"""What a simulated model answers: deterministic text, its length and why it stopped (pure)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

_TEXT = (
    "This is a simulated answer from the Inferlane model server. It stands in for a real model so that "
    "routing, batching, retries and load balancing can be tested without a GPU. Every token here costs "
    "simulated time, and the prefix cache, the queue and the metrics behave like vLLM. "
)
# Output tokens are 4-character pieces of _TEXT (the tokenizer's rule), cycled.
PIECES: tuple[str, ...] = tuple(_TEXT[i : i + 4] for i in range(0, len(_TEXT) - len(_TEXT) % 4, 4))


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How many tokens a sequence will generate, and how it ends."""

    tokens: int
    finish_reason: str  # "stop" | "length"
    stop_reason: str | None = None
    offset: int = 0
    last_piece: str | None = None  # the final token's text when a stop string cut it

    def piece(self, index: int) -> str:
        if index == self.tokens - 1 and self.last_piece is not None:
            return self.last_piece
        return PIECES[(self.offset + index) % len(PIECES)]

    def text(self, start: int = 0, end: int | None = None) -> str:
        stop = self.tokens if end is None else min(end, self.tokens)
        return "".join(self.piece(i) for i in range(start, stop))


def natural_length(seed: int, low: int, high: int) -> int:
    """The length the 'model' wants to answer with (where it would emit EOS), in [low, high]."""
    if high <= low:
        return max(low, 1)
    return low + seed % (high - low + 1)


def prompt_seed(data: bytes, choice: int = 0) -> int:
    return zlib.crc32(data) + choice * 7919


def plan_output(
    *,
    seed: int,
    natural: int,
    max_tokens: int,
    ignore_eos: bool = False,
    stop: Sequence[str] = (),
    min_tokens: int = 0,
) -> OutputPlan:
    """Decide the output: ``max_tokens`` caps it (``length``); EOS or a stop string ends it (``stop``)."""
    offset = seed % len(PIECES)
    wanted = max_tokens if ignore_eos else max(natural, min_tokens)
    count = max(0, min(wanted, max_tokens))
    reason = "length" if count >= max_tokens and (ignore_eos or natural > max_tokens) else "stop"
    if not stop or count == 0:
        return OutputPlan(count, reason, None, offset)
    full = OutputPlan(count, reason, None, offset).text()
    best: tuple[int, str] | None = None
    for s in stop:
        at = full.find(s, max(0, min_tokens * 4 - len(s) + 1)) if s else -1
        if at >= 0 and (best is None or at < best[0]):
            best = (at, s)
    if best is None:
        return OutputPlan(count, reason, None, offset)
    at, s = best
    tokens = at // 4 + 1
    last = full[(tokens - 1) * 4 : at]
    return OutputPlan(tokens, "stop", s, offset, last)
