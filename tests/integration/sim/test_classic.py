"""TEI, TF Serving and KServe v2 shapes, and the batch-aware cost that makes merging requests pay off."""

from __future__ import annotations

import asyncio

import aiohttp
from sim_probe import FleetFactory, scrape, value

from inferlane.sim import FleetSpec


async def start(fleet_factory: FleetFactory, kind: str, name: str, scale: float = 0.0) -> str:
    spec = FleetSpec.from_dict(
        {"timeScale": scale, "models": [{"name": name, "kind": kind, "outputDimensions": 3}]}
    )
    return (await fleet_factory(spec)).replicas[0].url


async def test_tei(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await start(fleet_factory, "tei", "bge")
    async with client.post(url + "/embed", json={"inputs": ["a", "b", "a"]}) as r:
        vectors = await r.json()
    assert len(vectors) == 3 and vectors[0] == vectors[2] != vectors[1] and len(vectors[0]) == 384
    async with client.post(
        url + "/rerank", json={"query": "cat", "texts": ["dog", "cat"], "return_text": True}
    ) as r:
        ranks = await r.json()
    assert [x["index"] for x in ranks] == [1, 0] and ranks[0]["text"] == "cat" and set(ranks[0]) == {
        "index", "score", "text"
    }  # fmt: skip
    async with client.post(url + "/embed", json={"inputs": ["x"] * 40}) as r:
        assert r.status == 413 and (await r.json()) == {
            "error": "batch size 40 > maximum allowed batch size 32", "error_type": "validation"
        }  # fmt: skip
    async with client.post(url + "/v1/embeddings", json={"model": "bge", "input": "a"}) as r:
        assert (await r.json())["data"][0]["embedding"] == vectors[0]
    async with client.get(url + "/info") as r:
        assert (await r.json())["model_id"] == "bge"
    metrics = await scrape(client, url)
    assert value(metrics, "te_request_count_total") == 3 and value(metrics, "te_embed_count_total") == 6
    assert ("te_queue_size", ()) in metrics


async def test_tfserving(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await start(fleet_factory, "tfserving", "clf")
    async with client.get(url + "/v1/models/clf") as r:
        assert (await r.json())["model_version_status"][0]["state"] == "AVAILABLE"
    async with client.post(url + "/v1/models/clf:predict", json={"instances": [[1, 2], [3, 4], [1, 2]]}) as r:
        predictions = (await r.json())["predictions"]
    assert len(predictions) == 3 and len(predictions[0]) == 3 and predictions[0] == predictions[2]
    async with client.post(
        url + "/v1/models/clf/versions/1:predict", json={"inputs": {"x": [[1], [2]]}}
    ) as r:
        assert len((await r.json())["outputs"]) == 2
    async with client.post(url + "/v1/models/nope:predict", json={"instances": [1]}) as r:
        assert r.status == 404 and (await r.json()) == {
            "error": "Servable not found for request: Latest(nope)"
        }
    async with client.post(url + "/v1/models/clf:predict", json={"signature_name": "x"}) as r:
        assert r.status == 400 and "instances" in (await r.json())["error"]
    async with client.get(url + "/monitoring/prometheus/metrics") as r:
        assert ":tensorflow:serving:request_count" in await r.text()


async def test_kserve_v2(fleet_factory: FleetFactory, client: aiohttp.ClientSession) -> None:
    url = await start(fleet_factory, "kserve", "iris")
    async with client.get(url + "/v2/health/live") as r:
        assert await r.json() == {"live": True}
    async with client.get(url + "/v2/health/ready") as r:
        assert await r.json() == {"ready": True}
    async with client.get(url + "/v2/models/iris") as r:
        meta = await r.json()
    assert meta["name"] == "iris" and meta["versions"] == ["1"] and meta["outputs"][0]["shape"] == [-1, 3]
    async with client.get(url + "/v2/models/iris/ready") as r:
        assert await r.json() == {"name": "iris", "ready": True}
    body = {
        "id": "r1",
        "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [[1, 2, 3, 4], [5, 6, 7, 8]]}],
    }
    async with client.post(url + "/v2/models/iris/infer", json=body) as r:
        out = await r.json()
    assert out["model_name"] == "iris" and out["id"] == "r1"
    assert out["outputs"][0]["shape"] == [2, 3] and len(out["outputs"][0]["data"]) == 6
    assert out["outputs"][0]["datatype"] == "FP32"
    bad = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [1, 2]}]}
    async with client.post(url + "/v2/models/iris/infer", json=bad) as r:
        assert r.status == 400 and "needs 8 values" in (await r.json())["error"]
    async with client.post(url + "/v2/models/nope/infer", json=body) as r:
        assert r.status == 404 and (await r.json()) == {"error": "Model with name nope does not exist."}


async def test_one_batch_costs_less_than_its_parts(
    fleet_factory: FleetFactory, client: aiohttp.ClientSession
) -> None:
    url = await start(fleet_factory, "tei", "bge", scale=0.01)

    async def embed_one(i: int) -> None:
        async with client.post(url + "/embed", json={"inputs": f"text {i}"}) as r:
            assert r.status == 200

    await asyncio.gather(*(embed_one(i) for i in range(16)))
    singles = value(await scrape(client, url), "te_request_inference_duration_sum")
    async with client.post(url + "/embed", json={"inputs": [f"text {i}" for i in range(16)]}) as r:
        assert r.status == 200
    batched = value(await scrape(client, url), "te_request_inference_duration_sum") - singles
    assert batched < singles / 4  # base ≫ per-item: merging 16 calls pays off
    queued = value(await scrape(client, url), "te_request_queue_duration_sum")
    assert queued > 0  # the 16 concurrent singles waited for the device
