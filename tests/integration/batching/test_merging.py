"""Concurrent callers through the proxy get exactly what they would have got calling the model directly,
while the model server sees far fewer, larger calls (counted by the simulator's device)."""

from __future__ import annotations

import asyncio
from typing import Any

from batch_probe import batching_config, device_batches, metric


async def _post_all(http: Any, url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    async def one(body: dict[str, Any]) -> tuple[int, Any]:
        async with http.post(url, json=body) as resp:
            return resp.status, await resp.json(content_type=None)

    return list(await asyncio.gather(*(one(body) for body in bodies)))


async def test_openai_embeddings_merge_and_split_exactly(sim, proxies, http):
    fleet = await sim("vllm", model="emb")
    direct = fleet.replicas[0].url
    bodies = [
        {"model": "emb", "input": f"text number {i}" if i % 3 else [f"a{i}", f"b{i}"]} for i in range(8)
    ]
    expected = await _post_all(http, direct + "/v1/embeddings", bodies)
    before = device_batches(fleet)

    proxy = await proxies(batching_config(direct, "/v1/embeddings", maxBatchSize=11))
    got = await _post_all(http, proxy.url + "/v1/embeddings", bodies)

    for (status, answer), (_, alone) in zip(got, expected, strict=True):
        assert status == 200
        assert [d["embedding"] for d in answer["data"]] == [d["embedding"] for d in alone["data"]]
        assert [d["index"] for d in answer["data"]] == list(range(len(alone["data"])))
        assert answer["usage"]["prompt_tokens"] > 0
    batches, items = (now - then for now, then in zip(device_batches(fleet), before, strict=True))
    assert items == 11  # 8 callers, 11 inputs
    assert batches == 1  # the batch went out when it reached maxBatchSize (11 items)
    async with http.get(proxy.admin_url + "/metrics") as resp:
        text = await resp.text()
    assert metric(text, 'ai_inference_batch_size_count{model="emb"}') == 1
    assert metric(text, 'ai_inference_batch_size_sum{model="emb"}') == 11
    assert metric(text, 'inferlane_batch_requests_total{model="emb"}') == 8
    assert metric(text, 'batch_size_avg{model="emb"}') == 11
    assert metric(text, 'request_queue_depth{model="emb"}') == 0
    state = proxy.app.state()["batching"]["models"]["emb"]  # what the status page shows
    assert (state["avg_batch_size"], state["merge_ratio"], state["queued"]) == (11, 8, 0)


async def test_tei_embed_and_oversized_callers_are_split_and_reassembled(sim, proxies, http):
    fleet = await sim("tei", model="bge", max_client_batch_size=4)
    direct = fleet.replicas[0].url
    small = [{"inputs": [f"s{i}-{j}" for j in range(2)]} for i in range(2)]
    expected = await _post_all(http, direct + "/embed", small)
    proxy = await proxies(batching_config(direct, "/embed", maxBatchSize=4))

    got = await _post_all(http, proxy.url + "/embed", small)
    assert got == expected

    # ten inputs: more than the server accepts in one call (4) — split into 4+3+3 and reassembled in order
    texts = [f"long caller input {j}" for j in range(10)]
    alone = [(await _post_all(http, direct + "/embed", [{"inputs": [t]}]))[0][1][0] for t in texts]
    status, vectors = (await _post_all(http, proxy.url + "/embed", [{"inputs": texts}]))[0]
    assert status == 200
    assert vectors == alone


async def test_tfserving_rows_and_kserve_v2_tensors_merge(sim, proxies, http):
    tf = await sim("tfserving", model="clf")
    url = tf.replicas[0].url
    path = "/v1/models/clf:predict"
    bodies = [{"instances": [[float(i), float(i) + 0.5]] * (1 + i % 2)} for i in range(6)]
    expected = await _post_all(http, url + path, bodies)
    before = device_batches(tf)
    proxy = await proxies(batching_config(url, path, maxBatchSize=9))
    assert await _post_all(http, proxy.url + path, bodies) == expected
    assert [a - b for a, b in zip(device_batches(tf), before, strict=True)] == [1, 9]

    kserve = await sim("kserve", model="tab")
    url = kserve.replicas[0].url
    path = "/v2/models/tab/infer"

    def v2(i: int) -> dict[str, Any]:
        rows = 1 + i % 3
        data = [float(i * 10 + k) for k in range(rows * 3)]
        return {
            "id": f"req-{i}",
            "inputs": [{"name": "x", "shape": [rows, 3], "datatype": "FP32", "data": data}],
        }

    bodies = [v2(i) for i in range(6)]
    expected = await _post_all(http, url + path, bodies)
    before = device_batches(kserve)
    proxy = await proxies(batching_config(url, path, maxBatchSize=12))
    got = await _post_all(http, proxy.url + path, bodies)
    for (status, answer), (_, alone) in zip(got, expected, strict=True):
        assert status == 200
        assert answer["id"] == alone["id"]
        assert answer["outputs"] == alone["outputs"]
    assert [a - b for a, b in zip(device_batches(kserve), before, strict=True)] == [1, 12]
