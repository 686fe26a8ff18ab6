"""Mergers: merge → fake upstream → split gives every caller exactly what it would have got alone.

Each protocol has a fake upstream that answers any body item by item, with results derived from the item's
content (so a mix-up changes them) and usage counted the way a real server counts. The property tests
compare ``split(upstream(merge(bodies)), bodies)`` with ``[upstream(body) for body in bodies]``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferlane.stages.batching.mergers import MergeError, Merger, merger_for
from inferlane.stages.batching.mergers.base import apportion, chunk_spans
from inferlane.stages.batching.mergers.kserve_v2 import KServeV2Merger
from inferlane.stages.batching.mergers.openai_completions import OpenAICompletionsMerger
from inferlane.stages.batching.mergers.openai_embeddings import OpenAIEmbeddingsMerger
from inferlane.stages.batching.mergers.tei import TeiEmbedMerger, TeiRerankMerger
from inferlane.stages.batching.mergers.tfserving import TfServingMerger

Body = dict[str, Any]
PROPERTY = settings(max_examples=40, deadline=None)


def crc(value: Any) -> int:
    return zlib.crc32(repr(value).encode())


def prompt_list(value: Any) -> list[Any]:
    if isinstance(value, str) or (value and all(type(item) is int for item in value)):
        return [value]
    return list(value)


# --- fake upstreams --------------------------------------------------------------------------------


def fake_embeddings(body: Body) -> Any:
    items = prompt_list(body["input"])
    data = [
        {"object": "embedding", "index": i, "embedding": [crc(item), len(item)]}
        for i, item in enumerate(items)
    ]
    tokens = sum(len(item) for item in items)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": body["model"], "usage": usage}


def completion_text(item: Any) -> str:
    return f"<{item}>" if isinstance(item, str) else "<" + ",".join(map(str, item)) + ">"


def fake_completions(body: Body) -> Any:
    items = prompt_list(body["prompt"])
    choices: list[Body] = [
        {"text": completion_text(item), "index": i, "logprobs": None, "finish_reason": "length"}
        for i, item in enumerate(items)
    ]
    prompt = sum(len(item) for item in items)
    completion = sum(len(choice["text"]) for choice in choices)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 7,
        "model": body["model"],
        "choices": choices,
        "usage": usage,
    }


def fake_tei_embed(body: Body) -> Any:
    return [[crc(item), len(item)] for item in prompt_list(body["inputs"])]


def fake_tei_rerank(body: Body) -> Any:
    scores = [(crc((body["query"], text)) % 1000) / 1000 for text in body["texts"]]
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [
        {"index": i, "score": scores[i], **({"text": body["texts"][i]} if body.get("return_text") else {})}
        for i in ranked
    ]


def fake_tf(body: Body) -> Any:
    if "instances" in body:
        return {"predictions": [{"y": crc(row), "z": [1, crc(row) % 7]} for row in body["instances"]]}
    inputs = body["inputs"]
    if not isinstance(inputs, dict):
        return {"outputs": [crc(row) for row in inputs]}
    batch = len(next(iter(inputs.values())))
    rows = [tuple(inputs[name][i] for name in sorted(inputs)) for i in range(batch)]
    return {"outputs": {"y": [crc(row) for row in rows], "z": [[crc(row) % 5, 1] for row in rows]}}


def kserve_row(tensor: Body, i: int) -> Any:
    data, shape = tensor["data"], tensor["shape"]
    if data and isinstance(data[0], list):
        return data[i]
    width = math.prod(shape[1:])
    return data[i * width : (i + 1) * width]


def flat(value: Any) -> list[Any]:
    return [x for item in value for x in flat(item)] if isinstance(value, list) else [value]


def fake_kserve(body: Body) -> Any:
    batch = body["inputs"][0]["shape"][0]
    rows = [tuple(tuple(flat(kserve_row(t, i))) for t in body["inputs"]) for i in range(batch)]
    outputs = [
        {"name": "score", "shape": [batch], "datatype": "FP64", "data": [crc(row) / 7 for row in rows]},
        {
            "name": "emb",
            "shape": [batch, 2],
            "datatype": "INT64",
            "data": [[crc(row) % 9, 1] for row in rows],
        },
        {
            "name": "flat2",
            "shape": [batch, 2],
            "datatype": "INT64",
            "data": [v for r in rows for v in (crc(r), 2)],
        },
    ]
    answer: Body = {"model_name": "m", "model_version": "1", "outputs": outputs}
    if "id" in body:
        answer["id"] = body["id"]
    return answer


# --- caller generators -----------------------------------------------------------------------------


@st.composite
def openai_items(draw: st.DrawFn, caller: int, tokens: bool) -> Any:
    """One caller's input: a single text/token list, or a list of them; unique across callers."""
    count = draw(st.integers(1, 4))
    single = count == 1 and draw(st.booleans())
    if tokens:
        items: list[Any] = [
            [caller, i, *draw(st.lists(st.integers(0, 50_000), max_size=4))] for i in range(count)
        ]
    else:
        items = [draw(st.text(max_size=12)) + f"#{caller}.{i}" for i in range(count)]
    return items[0] if single else items


@st.composite
def openai_callers(draw: st.DrawFn, field: str, extra: Body) -> list[Body]:
    tokens = draw(st.booleans())
    return [
        {"model": "m", field: draw(openai_items(c, tokens)), **extra} for c in range(draw(st.integers(1, 6)))
    ]


@st.composite
def tei_embed_callers(draw: st.DrawFn) -> list[Body]:
    tokens = draw(st.booleans())
    return [
        {"inputs": draw(openai_items(c, tokens)), "normalize": True} for c in range(draw(st.integers(1, 6)))
    ]


@st.composite
def rerank_callers(draw: st.DrawFn) -> list[Body]:
    return_text = draw(st.booleans())
    return [
        {
            "query": "q",
            "texts": [f"t{c}.{i}" for i in range(draw(st.integers(1, 5)))],
            "return_text": return_text,
        }
        for c in range(draw(st.integers(1, 6)))
    ]


@st.composite
def tf_callers(draw: st.DrawFn) -> list[Body]:
    layout = draw(st.sampled_from(["rows", "named-rows", "columns", "bare-column"]))
    bodies = []
    for c in range(draw(st.integers(1, 6))):
        rows = [[c, i, draw(st.integers(0, 99))] for i in range(draw(st.integers(1, 4)))]
        if layout == "rows":
            body: Body = {"instances": rows}
        elif layout == "named-rows":
            body = {"instances": [{"a": row, "b": {"b64": f"{row[0]}/{row[1]}"}} for row in rows]}
        elif layout == "columns":
            body = {"inputs": {"a": rows, "b": [float(row[2]) for row in rows]}}
        else:
            body = {"inputs": rows}
        bodies.append({"signature_name": "serving_default", **body})
    return bodies


@st.composite
def kserve_callers(draw: st.DrawFn) -> list[Body]:
    bodies = []
    for c in range(draw(st.integers(1, 6))):
        batch = draw(st.integers(1, 4))
        rows = [[float(c), float(i), float(draw(st.integers(0, 99)))] for i in range(batch)]
        data: list[Any] = rows if draw(st.booleans()) else [v for row in rows for v in row]
        body: Body = {
            "inputs": [
                {"name": "x", "shape": [batch, 3], "datatype": "FP32", "data": data},
                {
                    "name": "tag",
                    "shape": [batch],
                    "datatype": "BYTES",
                    "data": [f"c{c}r{i}" for i in range(batch)],
                },
            ]
        }
        if draw(st.booleans()):
            body["id"] = f"req-{c}"
        bodies.append(body)
    return bodies


CASES: dict[str, tuple[Merger, Callable[[Body], Any], st.SearchStrategy[list[Body]]]] = {
    "openai-embeddings": (
        OpenAIEmbeddingsMerger(),
        fake_embeddings,
        openai_callers("input", {"encoding_format": "float"}),
    ),
    "openai-completions": (
        OpenAICompletionsMerger(),
        fake_completions,
        openai_callers("prompt", {"temperature": 0, "max_tokens": 8}),
    ),
    "tei-embed": (TeiEmbedMerger(), fake_tei_embed, tei_embed_callers()),
    "tei-rerank": (TeiRerankMerger(), fake_tei_rerank, rerank_callers()),
    "tfserving": (TfServingMerger(), fake_tf, tf_callers()),
    "kserve-v2": (KServeV2Merger(), fake_kserve, kserve_callers()),
}


@pytest.mark.parametrize("name", CASES.keys())
def test_merge_then_split_gives_each_caller_its_own_results(name: str) -> None:
    merger, upstream, callers = CASES[name]

    @PROPERTY
    @given(bodies=callers)
    def check(bodies: list[Body]) -> None:
        keys = {merger.key(body) for body in bodies}
        assert len(keys) == 1 and None not in keys
        originals = repr(bodies)
        merged = merger.merge(bodies)
        assert merger.key(merged) in keys
        assert merger.size(merged) == sum(merger.size(body) for body in bodies)
        assert merger.split(upstream(merged), bodies) == [upstream(body) for body in bodies]
        assert repr(bodies) == originals  # callers' bodies are not touched

    check()


@pytest.mark.parametrize("name", CASES.keys())
def test_oversized_callers_are_chunked_and_reassembled_in_order(name: str) -> None:
    merger, upstream, callers = CASES[name]

    @PROPERTY
    @given(bodies=callers, max_items=st.integers(1, 5))
    def check(bodies: list[Body], max_items: int) -> None:
        body = merger.merge(bodies)
        parts = merger.split_oversized(body, max_items)
        assert all(1 <= merger.size(part) <= max_items for part in parts)
        assert sum(merger.size(part) for part in parts) == merger.size(body)
        assert {merger.key(part) for part in parts} == {merger.key(body)}
        if merger.size(body) <= max_items:
            assert parts == [body]
        assert merger.reassemble([upstream(part) for part in parts]) == upstream(body)

    check()


@pytest.mark.parametrize("name", CASES.keys())
def test_oversized_parts_merged_with_others_still_split_right(name: str) -> None:
    """The batcher's real path: parts of a big caller share batches with other callers."""
    merger, upstream, callers = CASES[name]

    @PROPERTY
    @given(bodies=callers, max_items=st.integers(1, 3))
    def check(bodies: list[Body], max_items: int) -> None:
        parts = [
            (c, part) for c, body in enumerate(bodies) for part in merger.split_oversized(body, max_items)
        ]
        answers: dict[int, list[Any]] = {}
        for start in range(0, len(parts), 3):  # batches of three parts
            batch = parts[start : start + 3]
            split = merger.split(
                upstream(merger.merge([part for _, part in batch])), [part for _, part in batch]
            )
            for (caller, _), answer in zip(batch, split, strict=True):
                answers.setdefault(caller, []).append(answer)
        assert [merger.reassemble(answers[c]) for c in range(len(bodies))] == [upstream(b) for b in bodies]

    check()


@pytest.mark.parametrize("name", CASES.keys())
def test_a_result_missing_from_the_answer_fails_the_batch(name: str) -> None:
    merger, upstream, callers = CASES[name]

    @PROPERTY
    @given(bodies=callers)
    def check(bodies: list[Body]) -> None:
        answer = drop_one_result(upstream(merger.merge(bodies)))
        with pytest.raises(MergeError, match="batching: the upstream"):
            merger.split(answer, bodies)

    check()


def drop_one_result(answer: Any) -> Any:
    if isinstance(answer, list):
        return answer[:-1]
    for field in ("data", "choices", "predictions"):
        if field in answer:
            return {**answer, field: answer[field][:-1]}
    outputs = answer["outputs"]
    if isinstance(outputs, list) and isinstance(outputs[0], dict):  # KServe v2: one row short
        first = outputs[0]
        return {**answer, "outputs": [{**first, "shape": [first["shape"][0] - 1]}, *answer["outputs"][1:]]}
    if isinstance(outputs, dict):
        name = next(iter(outputs))
        return {**answer, "outputs": {**outputs, name: outputs[name][:-1]}}
    return {**answer, "outputs": outputs[:-1]}


# --- what must not merge -----------------------------------------------------------------------------

EMB: Body = {"model": "m", "input": ["a", "b"]}
CMP: Body = {"model": "m", "prompt": ["a"], "temperature": 0.2, "max_tokens": 8}
TEI: Body = {"inputs": ["a"], "normalize": True}
RERANK: Body = {"query": "q", "texts": ["a", "b"]}
TF_ROWS: Body = {"instances": [[1, 2], [3, 4]]}
TF_COLS: Body = {"inputs": {"a": [[1, 2]], "b": [0.5]}}
V2: Body = {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}


def v2_input(**changes: Any) -> Body:
    return {"inputs": [{**V2["inputs"][0], **changes}]}


APART: dict[str, tuple[Merger, Body, Body]] = {
    "embeddings: model": (OpenAIEmbeddingsMerger(), EMB, {**EMB, "model": "other"}),
    "embeddings: dimensions": (OpenAIEmbeddingsMerger(), EMB, {**EMB, "dimensions": 256}),
    "embeddings: encoding_format": (OpenAIEmbeddingsMerger(), EMB, {**EMB, "encoding_format": "base64"}),
    "embeddings: user": (OpenAIEmbeddingsMerger(), EMB, {**EMB, "user": "u1"}),
    "embeddings: text with token ids": (OpenAIEmbeddingsMerger(), EMB, {**EMB, "input": [[1, 2]]}),
    "completions: model": (OpenAICompletionsMerger(), CMP, {**CMP, "model": "other"}),
    "completions: temperature": (OpenAICompletionsMerger(), CMP, {**CMP, "temperature": 0.3}),
    "completions: top_p": (OpenAICompletionsMerger(), CMP, {**CMP, "top_p": 0.9}),
    "completions: max_tokens": (OpenAICompletionsMerger(), CMP, {**CMP, "max_tokens": 9}),
    "completions: stop": (OpenAICompletionsMerger(), CMP, {**CMP, "stop": ["\n"]}),
    "completions: seed": (OpenAICompletionsMerger(), CMP, {**CMP, "seed": 1}),
    "completions: logit_bias": (OpenAICompletionsMerger(), CMP, {**CMP, "logit_bias": {"50256": -100}}),
    "completions: logprobs": (OpenAICompletionsMerger(), CMP, {**CMP, "logprobs": 2}),
    "tei embed: normalize": (TeiEmbedMerger(), TEI, {**TEI, "normalize": False}),
    "tei embed: truncate": (TeiEmbedMerger(), TEI, {**TEI, "truncate": True}),
    "tei embed: prompt_name": (TeiEmbedMerger(), TEI, {**TEI, "prompt_name": "query"}),
    "tei rerank: another query": (TeiRerankMerger(), RERANK, {**RERANK, "query": "other"}),
    "tei rerank: raw_scores": (TeiRerankMerger(), RERANK, {**RERANK, "raw_scores": True}),
    "tf: signature_name": (TfServingMerger(), TF_ROWS, {**TF_ROWS, "signature_name": "other"}),
    "tf: row shape": (TfServingMerger(), TF_ROWS, {"instances": [[1, 2, 3]]}),
    "tf: row value kind": (TfServingMerger(), TF_ROWS, {"instances": [["a", "b"]]}),
    "tf: rows with columns": (TfServingMerger(), TF_ROWS, {"inputs": [[1, 2]]}),
    "tf: named rows, other names": (TfServingMerger(), {"instances": [{"a": 1}]}, {"instances": [{"b": 1}]}),
    "tf: b64 with text": (TfServingMerger(), {"instances": [{"b64": "AA"}]}, {"instances": ["AA"]}),
    "tf: column names": (TfServingMerger(), TF_COLS, {"inputs": {"a": [[1, 2]], "c": [0.5]}}),
    "tf: column inner shape": (TfServingMerger(), TF_COLS, {"inputs": {"a": [[1, 2, 3]], "b": [0.5]}}),
    "tf: named with bare column": (TfServingMerger(), {"inputs": {"": [[1]]}}, {"inputs": [[1]]}),
    "v2: datatype": (KServeV2Merger(), V2, v2_input(datatype="FP64")),
    "v2: non-batch shape": (KServeV2Merger(), V2, v2_input(shape=[1, 4])),
    "v2: input name": (KServeV2Merger(), V2, v2_input(name="y")),
    "v2: input parameters": (KServeV2Merger(), V2, v2_input(parameters={"content_type": "np"})),
    "v2: request parameters": (KServeV2Merger(), V2, {**V2, "parameters": {"priority": 1}}),
    "v2: requested outputs": (KServeV2Merger(), V2, {**V2, "outputs": [{"name": "score"}]}),
}


@pytest.mark.parametrize("case", APART.values(), ids=APART.keys())
def test_what_changes_the_output_never_merges(case: tuple[Merger, Body, Body]) -> None:
    merger, body, other = case
    assert merger.key(body) is not None
    assert merger.key(other) is None or merger.key(other) != merger.key(body)


def test_what_does_not_change_the_output_merges() -> None:
    assert OpenAIEmbeddingsMerger().key(EMB) == OpenAIEmbeddingsMerger().key({**EMB, "input": "one text"})
    assert OpenAIEmbeddingsMerger().key({"input": [[1]]}) == OpenAIEmbeddingsMerger().key(
        {"input": [1, 2, 3]}
    )
    assert KServeV2Merger().key(V2) == KServeV2Merger().key(
        {**v2_input(shape=[5, 2], data=[0] * 10), "id": "x"}
    )
    assert KServeV2Merger().key(V2) == KServeV2Merger().key(v2_input(data=[[1, 2], [3, 4]]))  # nested data
    assert TeiRerankMerger().key(RERANK) == TeiRerankMerger().key({**RERANK, "texts": ["c"]})
    assert TfServingMerger().key(TF_ROWS) == TfServingMerger().key({"instances": [[5, 6]]})


ALONE: dict[str, tuple[Merger, Body]] = {
    "embeddings: empty list": (OpenAIEmbeddingsMerger(), {"model": "m", "input": []}),
    "embeddings: no input": (OpenAIEmbeddingsMerger(), {"model": "m"}),
    "embeddings: texts mixed with ids": (OpenAIEmbeddingsMerger(), {"input": ["a", [1, 2]]}),
    "embeddings: not a prompt": (OpenAIEmbeddingsMerger(), {"input": {"text": "a"}}),
    "embeddings: bools are not token ids": (OpenAIEmbeddingsMerger(), {"input": [True, False]}),
    "completions: streaming": (OpenAICompletionsMerger(), {**CMP, "stream": True}),
    "completions: n > 1": (OpenAICompletionsMerger(), {**CMP, "n": 2}),
    "completions: best_of > 1": (OpenAICompletionsMerger(), {**CMP, "best_of": 3}),
    "tei embed: no inputs": (TeiEmbedMerger(), {"normalize": True}),
    "tei rerank: no query": (TeiRerankMerger(), {"texts": ["a"]}),
    "tei rerank: no texts": (TeiRerankMerger(), {"query": "q", "texts": []}),
    "tei rerank: top_n cut": (TeiRerankMerger(), {**RERANK, "top_n": 1}),
    "tf: both formats": (TfServingMerger(), {"instances": [[1]], "inputs": [[1]]}),
    "tf: neither format": (TfServingMerger(), {"signature_name": "s"}),
    "tf: no instances": (TfServingMerger(), {"instances": []}),
    "tf: ragged rows": (TfServingMerger(), {"instances": [[1, 2], [3]]}),
    "tf: columns with different dim 0": (TfServingMerger(), {"inputs": {"a": [1, 2], "b": [1]}}),
    "tf: scalar column": (TfServingMerger(), {"inputs": {"a": 1}}),
    "v2: no inputs": (KServeV2Merger(), {"inputs": []}),
    "v2: scalar input": (KServeV2Merger(), v2_input(shape=[], data=[1])),
    "v2: data does not match shape": (KServeV2Merger(), v2_input(data=[1, 2, 3])),
    "v2: nested rows do not match dim 0": (KServeV2Merger(), v2_input(data=[[1, 2]])),
    "v2: empty batch": (KServeV2Merger(), v2_input(shape=[0, 2], data=[])),
    "v2: different dim 0 per input": (
        KServeV2Merger(),
        {"inputs": [V2["inputs"][0], {"name": "y", "shape": [3], "datatype": "FP32", "data": [1, 2, 3]}]},
    ),
    "v2: duplicate input names": (KServeV2Merger(), {"inputs": [V2["inputs"][0], V2["inputs"][0]]}),
    "v2: binary tensor data": (KServeV2Merger(), v2_input(parameters={"binary_data_size": 16})),
    "v2: binary outputs": (KServeV2Merger(), {**V2, "parameters": {"binary_data_output": True}}),
    "v2: shared memory": (
        KServeV2Merger(),
        {**V2, "outputs": [{"name": "o", "parameters": {"shared_memory_region": "r"}}]},
    ),
}


@pytest.mark.parametrize("case", ALONE.values(), ids=ALONE.keys())
def test_unmergeable_bodies_go_alone(case: tuple[Merger, Body]) -> None:
    merger, body = case
    assert merger.key(body) is None


# --- answers that cannot be split ---------------------------------------------------------------------

BROKEN: dict[str, tuple[Merger, list[Body], Any]] = {
    "embeddings: not an object": (OpenAIEmbeddingsMerger(), [EMB], ["x"]),
    "embeddings: no data": (OpenAIEmbeddingsMerger(), [EMB], {"object": "list"}),
    "embeddings: an extra result": (
        OpenAIEmbeddingsMerger(),
        [EMB],
        {"data": [{"index": i, "embedding": [i]} for i in range(3)]},
    ),
    "embeddings: duplicate index": (
        OpenAIEmbeddingsMerger(),
        [EMB],
        {"data": [{"index": 0, "embedding": [0]}, {"index": 0, "embedding": [1]}]},
    ),
    "completions: index out of range": (
        OpenAICompletionsMerger(),
        [CMP],
        {"choices": [{"index": 1, "text": "x"}]},
    ),
    "tei embed: not an array": (TeiEmbedMerger(), [TEI], {"error": "x"}),
    "tei rerank: too few": (TeiRerankMerger(), [RERANK], [{"index": 0, "score": 1.0}]),
    "tei rerank: duplicate index": (
        TeiRerankMerger(),
        [RERANK],
        [{"index": 0, "score": 1.0}, {"index": 0, "score": 0.5}],
    ),
    "tei rerank: index out of range": (
        TeiRerankMerger(),
        [RERANK],
        [{"index": 0, "score": 1.0}, {"index": 2, "score": 0.5}],
    ),
    "tf: error body": (TfServingMerger(), [TF_ROWS], {"error": "bad input"}),
    "tf: too many predictions": (TfServingMerger(), [TF_ROWS], {"predictions": [1, 2, 3]}),
    "tf: output without batch dimension": (TfServingMerger(), [TF_COLS], {"outputs": {"y": 3.5}}),
    "tf: one output short": (TfServingMerger(), [TF_COLS], {"outputs": {"y": [1], "z": []}}),
    "v2: no outputs": (KServeV2Merger(), [V2], {"error": "x"}),
    "v2: one row short": (
        KServeV2Merger(),
        [V2],
        {"outputs": [{"name": "o", "shape": [1], "datatype": "FP32", "data": [1]}]},
    ),
    "v2: shape and data disagree": (
        KServeV2Merger(),
        [V2],
        {"outputs": [{"name": "o", "shape": [2], "datatype": "FP32", "data": [1]}]},
    ),
    "v2: a scalar output": (
        KServeV2Merger(),
        [V2],
        {"outputs": [{"name": "o", "shape": [], "datatype": "FP32", "data": [1]}]},
    ),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_answers_that_cannot_be_attributed_fail_the_batch(case: tuple[Merger, list[Body], Any]) -> None:
    merger, bodies, answer = case
    with pytest.raises(MergeError) as raised:
        merger.split(answer, bodies)
    assert raised.value.status == 502 and raised.value.code == "batch_result_mismatch"


# --- usage, ids, shapes -----------------------------------------------------------------------------------


def test_text_usage_is_split_by_characters_and_adds_up() -> None:
    bodies: list[Body] = [{"model": "m", "input": "a" * 10}, {"model": "m", "input": ["b" * 25, "c" * 5]}]
    answer = {
        "data": [{"index": i, "embedding": [i]} for i in range(3)],
        "usage": {"prompt_tokens": 11, "total_tokens": 11},
    }
    first, second = OpenAIEmbeddingsMerger().split(answer, bodies)
    assert first["usage"] == {"prompt_tokens": 3, "total_tokens": 3}  # 11 * 10/40 = 2.75
    assert second["usage"] == {"prompt_tokens": 8, "total_tokens": 8}  # 11 * 30/40 = 8.25
    assert [entry["index"] for entry in second["data"]] == [0, 1]


def test_completion_usage_is_split_by_each_callers_output() -> None:
    bodies = [{"prompt": "aaaa"}, {"prompt": "bbbb"}]
    answer = {
        "choices": [{"index": 0, "text": "x"}, {"index": 1, "text": "yyy"}],
        "usage": {
            "prompt_tokens": 4,
            "completion_tokens": 8,
            "total_tokens": 12,
            "prompt_tokens_details": None,
        },
    }
    first, second = OpenAICompletionsMerger().split(answer, bodies)
    assert first["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert second["usage"] == {"prompt_tokens": 2, "completion_tokens": 6, "total_tokens": 8}


def test_missing_usage_stays_missing_and_null_stays_null() -> None:
    bodies = [{"input": "a"}, {"input": "b"}]
    data = [{"index": 0, "embedding": [0]}, {"index": 1, "embedding": [1]}]
    assert all("usage" not in part for part in OpenAIEmbeddingsMerger().split({"data": data}, bodies))
    assert all(
        part["usage"] is None
        for part in OpenAIEmbeddingsMerger().split({"data": data, "usage": None}, bodies)
    )


def test_results_out_of_order_are_put_back_in_order() -> None:
    bodies: list[Body] = [{"input": "a"}, {"input": ["b", "c"]}]
    data = [{"index": 2, "embedding": [2]}, {"index": 0, "embedding": [0]}, {"index": 1, "embedding": [1]}]
    first, second = OpenAIEmbeddingsMerger().split({"data": data}, bodies)
    assert first["data"] == [{"index": 0, "embedding": [0]}]
    assert second["data"] == [{"index": 0, "embedding": [1]}, {"index": 1, "embedding": [2]}]


def test_kserve_merges_nested_and_flat_data_and_echoes_ids() -> None:
    merger = KServeV2Merger()
    bodies = [{"id": "a", **v2_input(data=[[1, 2], [3, 4]])}, v2_input(shape=[1, 2], data=[5, 6])]
    merged = merger.merge(bodies)
    assert "id" not in merged
    assert merged["inputs"][0]["shape"] == [3, 2] and merged["inputs"][0]["data"] == [1, 2, 3, 4, 5, 6]
    answer = {
        "id": "",
        "model_name": "m",
        "outputs": [{"name": "o", "shape": [3], "datatype": "FP32", "data": [7, 8, 9]}],
    }
    first, second = merger.split(answer, bodies)
    assert first == {
        "id": "a",
        "model_name": "m",
        "outputs": [{"name": "o", "shape": [2], "datatype": "FP32", "data": [7, 8]}],
    }
    assert second == {
        "model_name": "m",
        "outputs": [{"name": "o", "shape": [1], "datatype": "FP32", "data": [9]}],
    }


def test_kserve_inputs_in_another_order_merge_by_name() -> None:
    x = {"name": "x", "shape": [1], "datatype": "INT32", "data": [1]}
    y = {"name": "y", "shape": [1], "datatype": "INT32", "data": [2]}
    bodies = [{"inputs": [x, y]}, {"inputs": [{**y, "data": [4]}, {**x, "data": [3]}]}]
    merger = KServeV2Merger()
    assert merger.key(bodies[0]) == merger.key(bodies[1])
    assert [(t["name"], t["data"]) for t in merger.merge(bodies)["inputs"]] == [("x", [1, 3]), ("y", [2, 4])]


# --- shared arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1, 1], [5, 5]),
        (11, [10, 30], [3, 8]),
        (1, [1, 1, 1], [1, 0, 0]),
        (7, [0, 0], [4, 3]),
        (0, [3, 4], [0, 0]),
        (5, [], []),
        (9, [2, 3, 4], [2, 3, 4]),
    ],
)
def test_apportion(total: int, weights: list[int], expected: list[int]) -> None:
    assert apportion(total, weights) == expected


@given(total=st.integers(0, 10_000), weights=st.lists(st.integers(0, 1000), min_size=1, max_size=20))
@PROPERTY
def test_apportion_adds_up_and_stays_within_one_of_the_exact_share(total: int, weights: list[int]) -> None:
    shares = apportion(total, weights)
    assert sum(shares) == total
    whole = sum(weights) or len(weights)
    for share, weight in zip(shares, weights if sum(weights) else [1] * len(weights), strict=True):
        assert abs(share - total * weight / whole) < 1


def test_chunk_spans_are_even() -> None:
    assert chunk_spans(10, 4) == [(0, 4), (4, 7), (7, 10)]
    assert chunk_spans(3, 5) == [(0, 3)]
    with pytest.raises(ValueError, match="max_items"):
        chunk_spans(3, 0)


@pytest.mark.parametrize("name", CASES.keys())
def test_merger_for_each_protocol(name: str) -> None:
    assert type(merger_for(name)) is type(CASES[name][0])  # type: ignore[arg-type]


def test_merger_for_an_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="no merger"):
        merger_for("grpc")  # type: ignore[arg-type]
