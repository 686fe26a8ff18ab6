"""Dynamic batching: many small inference calls merged into one upstream call, answers split back.

Pure cores live here: :mod:`.policy` (the flush rule and the adaptive window), :mod:`.mergers` (one merger per
wire protocol: compatibility key, merge, split, oversized-caller chunking) and :mod:`.bisect` (isolating the
bad callers of a batch that failed with a 4xx). They import no asyncio, aiohttp or time; the async batcher
passes ``now`` in and does the I/O.
"""
