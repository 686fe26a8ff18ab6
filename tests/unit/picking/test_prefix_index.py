from __future__ import annotations

import random
import tracemalloc
from hashlib import blake2b

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferlane.picking.prefix_index import PrefixIndex, block_hashes, stable_hash
from inferlane.picking.view import EndpointView


def chain(prefix: str, n: int, start: int = 0) -> tuple[int, ...]:
    ids = [stable_hash(f"{prefix}{i}") % 50_000 for i in range(start, start + n * 4)]
    return block_hashes(ids, 4)


# --- block_hashes ----------------------------------------------------------------------------------


def test_hashes_are_chained_so_one_hash_names_the_whole_prefix():
    a = block_hashes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4)
    b = block_hashes([1, 2, 3, 4, 0, 6, 7, 8, 9, 10, 11, 12], 4)
    assert len(a) == 3
    assert a[0] == b[0]
    assert a[1] != b[1] and a[2] != b[2]  # the same third block after a different second one differs


@pytest.mark.parametrize(
    ("tokens", "block_size", "max_blocks", "expected_len"),
    [(15, 16, None, 0), (16, 16, None, 1), (47, 16, None, 2), (4096, 16, None, 256), (4096, 16, 100, 100)],
)
def test_only_full_blocks_are_hashed_up_to_the_cap(tokens, block_size, max_blocks, expected_len):
    assert len(block_hashes(list(range(tokens)), block_size, max_blocks=max_blocks)) == expected_len


def test_seed_separates_models_and_adapters():
    ids = list(range(32))
    assert block_hashes(ids, 16, seed=stable_hash("a")) != block_hashes(ids, 16, seed=stable_hash("b"))


def test_bytes_are_hashed_stably_across_processes():
    text = b"You are a helpful assistant. " * 10
    hashes = block_hashes(text, 64)
    assert len(hashes) == len(text) // 64
    first = blake2b((0).to_bytes(8, "little", signed=True), digest_size=8)
    first.update(text[:64])
    assert hashes[0] == int.from_bytes(first.digest(), "little", signed=True)
    assert stable_hash("session-1") == int.from_bytes(blake2b(b"session-1", digest_size=8).digest(), "little")


def test_block_size_must_be_positive():
    with pytest.raises(ValueError, match="block_size"):
        block_hashes([1, 2], 0)


# --- match -----------------------------------------------------------------------------------------


def test_match_reports_each_endpoints_longest_prefix():
    index = PrefixIndex(block_size=4)
    prompt = chain("p", 40)
    index.record("a", prompt)
    index.record("b", prompt[:25])
    index.record("c", prompt[:3])
    index.record("d", chain("other", 40))
    assert index.match(prompt) == {"a": 40, "b": 25, "c": 3}
    assert index.match(prompt[:10]) == {"a": 10, "b": 10, "c": 3}
    assert index.match(chain("cold", 10)) == {}
    assert index.match(()) == {}


def test_a_longer_prompt_matches_the_recorded_part():
    index = PrefixIndex(block_size=4)
    index.record("a", chain("p", 10))
    assert index.match(chain("p", 30)) == {"a": 10}


def test_lru_evicts_tails_first_so_prefixes_survive():
    index = PrefixIndex(block_size=4, default_capacity=50)
    shared = chain("system", 20)
    index.record("a", shared)
    for i in range(10):  # ten prompts sharing the system prompt, each with its own 10-block tail
        index.record("a", shared + chain(f"q{i}", 10, start=80))
    assert index.entries_of("a") == 50
    assert index.match(shared)["a"] == 20  # the shared prefix, touched by every prompt, is kept
    assert index.match(shared + chain("q0", 10, start=80)) == {"a": 20}  # the oldest tail went
    assert index.match(shared + chain("q9", 10, start=80)) == {"a": 30}


def test_forget_drops_an_endpoint_and_its_slot_is_reused():
    index = PrefixIndex(block_size=4)
    prompt = chain("p", 8)
    index.record("a", prompt)
    index.record("b", prompt)
    index.forget("a")
    index.forget("missing")
    assert index.match(prompt) == {"b": 8}
    index.record("c", prompt[:2])
    assert index.match(prompt) == {"b": 8, "c": 2}
    index.forget("b")
    index.forget("c")
    assert index.entries == 0 and index.match(prompt) == {}


def test_capacity_follows_kv_geometry():
    index = PrefixIndex(block_size=16, default_capacity=1000)
    index.record("a", chain("p", 500))
    index.set_geometry("a", num_gpu_blocks=100, kv_block_size=32)  # 3,200 tokens = 200 index blocks
    assert index.capacity_of("a") == 200 and index.entries_of("a") == 200
    views = [
        EndpointView(id="a", num_gpu_blocks=100, block_size=32),
        EndpointView(id="b", num_gpu_blocks=10, block_size=16),
        EndpointView(id="c"),
    ]
    index.record("gone", chain("x", 5))
    index.sync(views)
    assert index.capacity_of("b") == 10
    assert index.capacity_of("c") == 1000  # unknown geometry: the default
    assert index.entries_of("gone") == 0 and "gone" not in index.match(chain("x", 5))


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="positive"):
        PrefixIndex(block_size=0)


# --- bounds ----------------------------------------------------------------------------------------


def test_byte_bound_holds_under_a_stream_of_unique_prompts():
    bound = 2 << 20
    index = PrefixIndex(block_size=16, max_bytes=bound)
    rng = random.Random(3)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(3000):
            index.record(f"e{i % 8}", tuple(rng.getrandbits(63) for _ in range(32)))
            assert index.approx_bytes <= bound
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert index.approx_bytes > bound * 0.9  # it fills up to the bound, then evicts
    assert used < bound * 1.25  # the estimate is honest about what CPython really holds


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.integers(0, 5), st.integers(1, 30), st.booleans()),
        max_size=40,
    )
)
def test_bounds_and_bookkeeping_hold_for_any_sequence(ops):
    index = PrefixIndex(block_size=4, max_bytes=4096 + 40 * 256, default_capacity=25)
    for endpoint, prompt, length, forget in ops:
        hashes = chain(f"t{prompt}", length)
        if forget:
            index.forget(endpoint)
        else:
            index.record(endpoint, hashes)
            assert 0 < index.match(hashes).get(endpoint, length) <= length
        assert index.approx_bytes <= index.max_bytes
        assert index.entries == sum(index.entries_of(e) for e in "abcd")
        assert all(index.entries_of(e) <= 25 for e in "abcd")
