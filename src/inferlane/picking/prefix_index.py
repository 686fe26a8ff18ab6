"""An approximate index of which endpoint recently saw which prompt prefix, bounded in entries and bytes.

A prompt is cut into fixed-size blocks and each block gets a *chained* hash (it covers every block before
it), so one hash names a whole prefix. The index maps hash → endpoints that were sent that prefix, with a
per-endpoint LRU whose capacity follows the endpoint's KV cache (``num_gpu_blocks × block_size`` tokens)
and a global byte bound (an estimate of CPython's cost per entry; the largest endpoint gives way first).

``record`` touches a prompt's blocks last-to-first, so a prefix's early blocks are always fresher than its
tail and eviction trims prompts from the end, as the model server's own cache does. Every endpoint's set
of hashes therefore stays prefix-closed (it holds block i ⇒ it holds blocks 0..i-1), and ``match`` finds
each endpoint's longest prefix by binary search instead of walking the whole prompt.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from hashlib import blake2b

from inferlane.picking.view import EndpointView

#: estimated bytes per (endpoint, block) entry: an OrderedDict slot and its node
ENTRY_BYTES = 112
#: estimated bytes per distinct block hash: the hash int, the holders-dict slot and the bitmask int
#: (checked against tracemalloc by bench/picking_cost.py: the estimate must not undercount)
HASH_BYTES = 184
#: estimated bytes per tracked endpoint
ENDPOINT_BYTES = 1024


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash(str)``)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little")


def block_hashes(
    ids: Sequence[int] | bytes, block_size: int = 16, *, seed: int = 0, max_blocks: int | None = None
) -> tuple[int, ...]:
    """Chained hashes of the full blocks of ``ids``: token ids, or the prompt's bytes as a tokenizer-free
    stand-in (use a larger block, e.g. 64 bytes ≈ 16 tokens). ``seed`` separates caches that must not
    share (seed with the model and LoRA adapter). A trailing partial block is not hashed."""
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    count = len(ids) // block_size
    if max_blocks is not None:
        count = min(count, max_blocks)
    out: list[int] = []
    prev = seed
    if isinstance(ids, bytes):
        for start in range(0, count * block_size, block_size):
            digest = blake2b(prev.to_bytes(8, "little", signed=True), digest_size=8)
            digest.update(ids[start : start + block_size])
            prev = int.from_bytes(digest.digest(), "little", signed=True)
            out.append(prev)
    else:
        for start in range(0, count * block_size, block_size):
            prev = hash((prev, tuple(ids[start : start + block_size])))
            out.append(prev)
    return tuple(out)


def _held_run(lru: Mapping[int, None], hashes: Sequence[int]) -> int:
    """How many leading ``hashes`` ``lru`` holds, by binary search (it is prefix-closed)."""
    lo, hi = 0, len(hashes)
    while lo < hi:
        mid = (lo + hi) >> 1
        if hashes[mid] in lru:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _touch(lru: OrderedDict[int, None], hashes: Sequence[int]) -> None:
    """Every block to the fresh end, last-to-first (in C: this runs on every request)."""
    deque(map(lru.move_to_end, reversed(hashes)), maxlen=0)


class _Holder:
    __slots__ = ("bit", "capacity", "id", "lru")

    def __init__(self, endpoint_id: str, bit: int, capacity: int) -> None:
        self.id = endpoint_id
        self.bit = bit
        self.capacity = capacity
        self.lru: OrderedDict[int, None] = OrderedDict()


class PrefixIndex:
    def __init__(
        self, *, block_size: int = 16, max_bytes: int = 64 << 20, default_capacity: int = 32_768
    ) -> None:
        if block_size < 1 or max_bytes < ENDPOINT_BYTES or default_capacity < 1:
            raise ValueError("block_size, max_bytes and default_capacity must be positive")
        self.block_size = block_size
        self.max_bytes = max_bytes
        self.default_capacity = default_capacity
        self._holders: dict[int, int] = {}  # block hash -> bitmask of endpoint slots
        self._endpoints: dict[str, _Holder] = {}
        self._by_slot: list[_Holder | None] = []
        self._entries = 0

    @property
    def approx_bytes(self) -> int:
        return (
            self._entries * ENTRY_BYTES
            + len(self._holders) * HASH_BYTES
            + len(self._endpoints) * ENDPOINT_BYTES
        )

    @property
    def entries(self) -> int:
        return self._entries

    def entries_of(self, endpoint_id: str) -> int:
        holder = self._endpoints.get(endpoint_id)
        return 0 if holder is None else len(holder.lru)

    def capacity_of(self, endpoint_id: str) -> int:
        holder = self._endpoints.get(endpoint_id)
        return self.default_capacity if holder is None else holder.capacity

    def set_geometry(self, endpoint_id: str, num_gpu_blocks: int, kv_block_size: int) -> None:
        """Size the endpoint's LRU to what its KV cache can hold, in this index's blocks."""
        holder = self._holder(endpoint_id)
        holder.capacity = max(1, num_gpu_blocks * kv_block_size // self.block_size)
        self._evict(holder, len(holder.lru) - holder.capacity)

    def sync(self, views: Iterable[EndpointView]) -> None:
        """Follow a new snapshot: size known endpoints from their KV geometry, forget departed ones."""
        present = set()
        for view in views:
            present.add(view.id)
            if view.num_gpu_blocks is not None:
                holder = self._endpoints.get(view.id)
                capacity = max(1, view.num_gpu_blocks * view.block_size // self.block_size)
                if holder is None or holder.capacity != capacity:
                    self.set_geometry(view.id, view.num_gpu_blocks, view.block_size)
        for endpoint_id in [e for e in self._endpoints if e not in present]:
            self.forget(endpoint_id)

    def record(self, endpoint_id: str, hashes: Sequence[int]) -> None:
        """Note that ``endpoint_id`` was sent (and so will cache) the prefix ``hashes``."""
        if not hashes:
            return
        holder = self._holder(endpoint_id)
        lru = holder.lru
        before = len(lru)
        # prefix closure: the blocks this endpoint holds are a leading run, so only the rest can be new
        self._add(holder, hashes[_held_run(lru, hashes) :])
        try:
            _touch(lru, hashes)
        except KeyError:  # not a chain (a repeated hash): add whatever is missing, then touch again
            self._add(holder, hashes)
            _touch(lru, hashes)
        self._entries += len(lru) - before
        self._evict(holder, len(lru) - holder.capacity)
        self._trim_to_bytes()

    def _add(self, holder: _Holder, hashes: Sequence[int]) -> None:
        lru, bit, holders = holder.lru, holder.bit, self._holders
        for h in hashes:
            if h not in lru:
                lru[h] = None
                holders[h] = holders.get(h, 0) | bit

    def match(self, hashes: Sequence[int]) -> dict[str, int]:
        """Per endpoint, how many leading blocks of ``hashes`` it holds (absent: none)."""
        get = self._holders.get
        remaining = get(hashes[0], 0) if hashes else 0
        result: dict[str, int] = {}
        hi = len(hashes)
        while remaining:
            # largest i < hi whose holders intersect `remaining`; i = 0 always qualifies (prefix closure)
            lo, top = 0, hi - 1
            while lo < top:
                mid = (lo + top + 1) >> 1
                if get(hashes[mid], 0) & remaining:
                    lo = mid
                else:
                    top = mid - 1
            found = get(hashes[lo], 0) & remaining
            remaining &= ~found
            while found:
                low = found & -found
                found ^= low
                holder = self._by_slot[low.bit_length() - 1]
                if holder is not None:
                    result[holder.id] = lo + 1
            hi = lo
        return result

    def forget(self, endpoint_id: str) -> None:
        holder = self._endpoints.pop(endpoint_id, None)
        if holder is None:
            return
        self._evict(holder, len(holder.lru))
        self._by_slot[holder.bit.bit_length() - 1] = None

    def _holder(self, endpoint_id: str) -> _Holder:
        holder = self._endpoints.get(endpoint_id)
        if holder is None:
            slot = next((i for i, h in enumerate(self._by_slot) if h is None), len(self._by_slot))
            holder = _Holder(endpoint_id, 1 << slot, self.default_capacity)
            if slot == len(self._by_slot):
                self._by_slot.append(holder)
            else:
                self._by_slot[slot] = holder
            self._endpoints[endpoint_id] = holder
        return holder

    def _evict(self, holder: _Holder, count: int) -> None:
        lru, clear, holders = holder.lru, ~holder.bit, self._holders
        for _ in range(max(0, min(count, len(lru)))):
            h, _none = lru.popitem(last=False)
            rest = holders[h] & clear
            if rest:
                holders[h] = rest
            else:
                del holders[h]
            self._entries -= 1

    def _trim_to_bytes(self) -> None:
        while self.approx_bytes > self.max_bytes and self._entries:
            largest = max(self._endpoints.values(), key=lambda h: len(h.lru))
            excess = self.approx_bytes - self.max_bytes
            self._evict(largest, max(1, -(-excess // (ENTRY_BYTES + HASH_BYTES))))
