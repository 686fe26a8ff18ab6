from __future__ import annotations

from inferlane.sim import tokens
from inferlane.sim.kvcache import BlockPool, block_hashes


def hashes(text: str, key: str = "") -> list[bytes]:
    return block_hashes(tokens.from_text(text), 4, key)


def test_hash_chain_covers_only_full_blocks_and_shares_prefixes() -> None:
    a = hashes("A" * 64 + "tail-a-0123456789")  # 16 tokens = 4 blocks of 4, one more, then a partial one
    b = hashes("A" * 64 + "tail-b-0123456789")
    assert len(a) == 5 and a[:4] == b[:4] and a[4] != b[4]
    assert hashes("B" + "A" * 63)[0] != a[0]


def test_extra_key_separates_loras() -> None:
    assert hashes("A" * 32, "lora-1")[0] != hashes("A" * 32)[0]


def test_cached_blocks_are_found_after_free_and_count_as_free() -> None:
    pool = BlockPool(8)
    hs = hashes("A" * 48)  # 3 blocks
    blocks = pool.allocate(3)
    assert blocks is not None
    for block, h in zip(blocks, hs, strict=True):
        pool.register(block, h)
    assert pool.usage == 3 / 8
    pool.free(blocks)
    assert pool.usage == 0.0 and pool.match(hs) == 3
    hits = pool.take_hits(hs)
    assert hits == blocks and pool.usage == 3 / 8


def test_lru_eviction_drops_oldest_cached_blocks_first() -> None:
    pool = BlockPool(4)
    old, new = hashes("O" * 32), hashes("N" * 32)
    for hs in (old, new):
        got = pool.allocate(2)
        assert got is not None
        for block, h in zip(got, hs, strict=True):
            pool.register(block, h)
        pool.free(got)
    assert pool.allocate(2) is not None  # evicts the two oldest (the "O" prefix)
    assert pool.match(old) == 0 and pool.match(new) == 2


def test_allocation_fails_when_full_and_reset_needs_idle_pool() -> None:
    pool = BlockPool(2)
    got = pool.allocate(2)
    assert got is not None and pool.allocate(1) is None and pool.usage == 1.0
    assert pool.reset_cache() is False
    pool.free(got)
    assert pool.reset_cache() is True


def test_caching_disabled_never_matches() -> None:
    pool = BlockPool(4, enable_caching=False)
    hs = hashes("A" * 16)
    got = pool.allocate(1)
    assert got is not None
    pool.register(got[0], hs[0])
    pool.free(got)
    assert pool.match(hs) == 0
