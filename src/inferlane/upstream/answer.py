"""Reading a whole upstream answer into memory, bounded, when a stage must look at all of it (batch
results to split back, a chat answer to translate). The connection is released either way."""

from __future__ import annotations

from inferlane.errors import UpstreamProtocolError
from inferlane.model import ProxyResponse


async def read_answer(
    response: ProxyResponse, limit: int, error: type[UpstreamProtocolError], what: str
) -> bytes:
    """The answer's body; a streamed one is drained (at most ``limit`` bytes, else ``error``) and closed, and
    the response then holds no stream."""
    if response.stream is None:
        return response.body
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.stream:
            size += len(chunk)
            if size > limit:
                raise error(f"{what} larger than {limit} bytes")
            chunks.append(chunk)
    finally:
        if response.close is not None:
            await response.close()
    response.stream = None
    response.close = None
    return b"".join(chunks)
