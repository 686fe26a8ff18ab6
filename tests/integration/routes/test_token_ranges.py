"""Token-range routing over the real simulator: the seed's small/medium/large split picks the model by
prompt size, says so in headers, and counts its decisions in the seed router's metrics."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from routes_fleet import SIZES
from tokenizers import Tokenizer, models, pre_tokenizers

from inferlane.sim import SimFleet
from support.proxy import proxy_config

RANGES = ({"max": 1000}, {"min": 1000, "max": 8000}, {"min": 8000})
LABELS = ("small", "medium", "large")


def seed_routes(fleet: SimFleet) -> dict[str, Any]:
    urls = {backend: [fleet.by_model(model)[0].url] for backend, model in SIZES}
    routes = [
        {
            "name": f"{label}-prompts",
            "pathPrefix": "/v1",
            "promptTokens": {**bounds, "name": label},
            "backend": backend,
            "rewrite": {"model": model},
        }
        for label, bounds, (backend, model) in zip(LABELS, RANGES, SIZES, strict=True)
    ]
    return proxy_config(urls, routing={"defaultBackend": "qwen-32b", "endpoints": routes})


async def test_a_9000_token_prompt_goes_to_the_large_model(seed_fleet, proxies, http):
    proxy = await proxies(seed_routes(seed_fleet))
    answered = {}
    for label, chars in (("small", 400), ("medium", 4000 * 4), ("large", 9000 * 4)):
        body = {"model": "auto", "prompt": "word " * (chars // 5), "max_tokens": 2}
        async with http.post(proxy.url + "/v1/completions", json=body) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["x-token-range"] == label
            assert resp.headers["x-inferlane-route"] == f"{label}-prompts"
            answer = await resp.json()
            answered[label] = answer["model"]
            if label == "large":
                # the simulator counts ~chars/4 as well: it really got the whole 9,000-token prompt
                assert 8990 <= answer["usage"]["prompt_tokens"] <= 9010
    # each simulator serves only its own model name (others get 404), so this is who answered
    assert answered == {"small": SIZES[0][1], "medium": SIZES[1][1], "large": SIZES[2][1]}

    chat = {"model": "auto", "messages": [{"role": "user", "content": "x" * 36_000}], "max_tokens": 1}
    async with http.post(proxy.url + "/v1/chat/completions", json=chat) as resp:
        assert resp.status == 200
        assert resp.headers["x-token-range"] == "large"

    async with http.get(proxy.url + "/v1/models") as resp:  # no prompt: no range, the default backend
        assert resp.status == 200
        assert resp.headers["x-inferlane-route"] == "default"
        assert "x-token-range" not in resp.headers
        assert [m["id"] for m in (await resp.json())["data"]] == [SIZES[1][1]]

    metrics = await scrape(http, proxy.admin_url)
    decisions = "ai_router_route_decision_total"
    assert metrics[(decisions, (("model_name", SIZES[2][1]), ("model_size", "large")))] == 2
    assert metrics[(decisions, (("model_name", SIZES[0][1]), ("model_size", "small")))] == 1
    assert metrics[(decisions, (("model_name", "-"), ("model_size", "-")))] == 1
    assert metrics[("ai_router_request_latency_seconds_count", (("model_size", "large"),))] == 2


async def scrape(
    http: aiohttp.ClientSession, url: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(url + "/metrics") as resp:
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_ranges_counted_with_a_local_tokenizer(seed_fleet, proxies, http, tmp_path):
    """Word-level tokenizer: 1,500 words are 1,500 tokens (chars/4 would say 562: the small model)."""
    path = tmp_path / "tokenizer.json"
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "hi": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(path))
    config = seed_routes(seed_fleet)
    config["routing"]["tokenizers"] = [{"name": "words", "path": str(path), "models": ["auto"]}]
    proxy = await proxies(config)
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi " * 1500}], "max_tokens": 1}
    async with http.post(proxy.url + "/v1/chat/completions", json=body) as resp:
        assert resp.status == 200
        assert resp.headers["x-token-range"] == "medium"
        assert (await resp.json())["model"] == SIZES[1][1]
