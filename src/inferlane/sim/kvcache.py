"""The KV cache of one replica: fixed-size blocks, reference counts, and automatic prefix caching (pure).

Prefix caching works like vLLM's: a prompt's full blocks are identified by a hash chain (block ``i``'s hash
covers its tokens and block ``i-1``'s hash, so equal hashes mean equal prefixes); a block whose last user
finished keeps its contents and hash and sits in an LRU list of evictable blocks until a new allocation
needs the space. Free space therefore includes cached-but-unused blocks, as in vLLM's ``kv_cache_usage``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from inferlane.sim.tokens import BYTES_PER_TOKEN, TokenSeq


def block_hashes(seq: TokenSeq, block_size: int, extra_key: str = "") -> list[bytes]:
    """Chained hashes of the full blocks of ``seq``; ``extra_key`` (LoRA name, cache salt) seeds the chain."""
    step = block_size * BYTES_PER_TOKEN
    data = seq.data
    parent = extra_key.encode()
    out = []
    for start in range(0, len(data) - step + 1, step):
        parent = hashlib.blake2b(data[start : start + step], digest_size=16, key=parent[:64]).digest()
        out.append(parent)
    return out


class BlockPool:
    """Block allocator with reference counts and an LRU of cached, unreferenced blocks."""

    def __init__(self, num_blocks: int, enable_caching: bool = True) -> None:
        self.num_blocks = num_blocks
        self.enable_caching = enable_caching
        self._ref = [0] * num_blocks
        self._hash: list[bytes | None] = [None] * num_blocks
        self._cached: dict[bytes, int] = {}
        self._evictable: OrderedDict[int, None] = OrderedDict()  # ref 0, has a hash; oldest first
        self._free: list[int] = list(range(num_blocks - 1, -1, -1))  # ref 0, no hash

    @property
    def num_free(self) -> int:
        return len(self._free) + len(self._evictable)

    @property
    def usage(self) -> float:
        """Fraction of blocks in use (vLLM's ``kv_cache_usage_perc``: 1 - free/total)."""
        return 1.0 - self.num_free / self.num_blocks if self.num_blocks else 0.0

    @property
    def num_cached(self) -> int:
        return len(self._cached)

    def match(self, hashes: list[bytes]) -> int:
        """How many leading blocks of ``hashes`` are in the cache."""
        if not self.enable_caching:
            return 0
        n = 0
        for h in hashes:
            if h not in self._cached:
                break
            n += 1
        return n

    def take_hits(self, hashes: list[bytes]) -> list[int]:
        """Reference the cached blocks of the longest matching prefix and return them."""
        blocks = []
        for h in hashes[: self.match(hashes)]:
            block = self._cached[h]
            if self._ref[block] == 0:
                del self._evictable[block]
            self._ref[block] += 1
            blocks.append(block)
        return blocks

    def can_allocate(self, n: int) -> bool:
        return n <= self.num_free

    def allocate(self, n: int) -> list[int] | None:
        """``n`` fresh blocks (evicting least recently used cached blocks), or None if they do not fit."""
        if n > self.num_free:
            return None
        out = []
        for _ in range(n):
            if self._free:
                block = self._free.pop()
            else:
                block, _ = self._evictable.popitem(last=False)
                old = self._hash[block]
                if old is not None and self._cached.get(old) == block:
                    del self._cached[old]
                self._hash[block] = None
            self._ref[block] = 1
            out.append(block)
        return out

    def register(self, block: int, block_hash: bytes) -> None:
        """Record that ``block`` now holds the full prompt block ``block_hash``."""
        if self.enable_caching and self._hash[block] is None and block_hash not in self._cached:
            self._hash[block] = block_hash
            self._cached[block_hash] = block

    def free(self, blocks: list[int]) -> None:
        """Drop one reference from each block; the tail of a sequence becomes evictable first."""
        for block in reversed(blocks):
            self._ref[block] -= 1
            if self._ref[block] == 0:
                if self._hash[block] is not None:
                    self._evictable[block] = None
                else:
                    self._free.append(block)

    def reset_cache(self) -> bool:
        """Forget every cached prefix; refused (False) while any block is in use, as in vLLM."""
        if self.num_free != self.num_blocks:
            return False
        for block in self._evictable:
            self._hash[block] = None
            self._free.append(block)
        self._evictable.clear()
        self._cached.clear()
        return True
