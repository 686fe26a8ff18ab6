"""The status page in a real headless Chromium (Debian's package, driven by playwright): it loads without
console errors, shows an endpoint turning unhealthy after a simulator fault, and shows a changed weight."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.proxy import proxy_config

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium package is not installed (make sysdeps installs it)"
)


TOKEN = "status-page-test-token"


async def set_weights(proxy: Any, http: Any, model: str, weights: dict[str, int]) -> None:
    """Through the admin API (``PUT /admin/models/<m>/weights``) where this build has it, else on the App's
    live weight store directly (the same store the admin API writes)."""
    url = f"{proxy.admin_url}/admin/models/{model}/weights"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with http.put(url, json={"weights": weights}, headers=headers) as response:
        if response.status in (404, 405):
            proxy.app.overrides.set(model, weights)
            return
        assert response.status == 200, await response.text()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)  # a busy CI machine may take a while to paint; still bounded
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            timeout=60_000,  # a first start on a fresh machine builds font caches
        )
        yield browser
        await browser.close()


async def test_page_shows_health_changes_and_new_weights_live(sim_fleet, proxies, http, browser) -> None:
    from playwright.async_api import expect

    fleet = await sim_fleet(replicas=2)
    sick, well = fleet.replicas
    config = proxy_config(
        {"m": [sick.url, well.url]},
        healthCheck={"enabled": True, "interval": "100ms", "timeout": "1s", "unhealthyThreshold": 1},
        routing={"endpoints": [{"name": "chat", "path": "/v1/chat/completions", "backend": "m"}]},
        admin={"token": TOKEN},
    )
    proxy = await proxies(config)
    for _ in range(4):
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        async with http.post(proxy.url + "/v1/chat/completions", json=body) as response:
            assert response.status == 200

    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(proxy.admin_url + "/")

    await expect(page).to_have_title("Inferlane status")
    sick_health = page.locator(f'tr[data-endpoint="{sick.url.removeprefix("http://")}"] td.health')
    well_health = page.locator(f'tr[data-endpoint="{well.url.removeprefix("http://")}"] td.health')
    await expect(sick_health).to_have_text("healthy")
    await expect(page.locator("#total-requests")).to_have_text("4")
    await expect(page.locator('tr[data-route="chat"]')).to_contain_text("/v1/chat/completions")
    await expect(page.locator("#splits-body")).to_contain_text("none")
    await expect(page.locator("#rollouts-body")).to_have_text("none")

    sick.faults.set(engine_dead=True)  # its /health answers 503 from now on
    await expect(sick_health).to_have_text("unhealthy")
    await expect(page).to_have_title("(1 unhealthy) Inferlane status")  # visible from another tab
    await expect(well_health).to_have_text("healthy")

    await set_weights(proxy, http, "m", {"v1": 70, "v2": 30})
    split = page.locator('tr[data-model="m"] td.weights')
    await expect(split).to_contain_text("v1 70")
    await expect(split).to_contain_text("v2 30")

    await expect(page.locator("#conn")).to_contain_text("live")
    assert problems == []
    await page.close()


async def test_page_renders_rollouts_load_signals_and_batching(proxies, browser) -> None:
    """What other stages add to ``App.state()`` (rollouts, per-endpoint load signals, batching) is shown."""
    from playwright.async_api import expect

    proxy = await proxies(proxy_config({"qwen": ["http://127.0.0.1:9"]}))
    assert proxy.app.status is not None
    plain_state = proxy.app.status.state

    def state() -> dict[str, Any]:
        current = plain_state()
        (endpoint,) = current["backends"]["qwen"]
        endpoint.update(kv_usage=0.93, queue=7, signal_age_s=0.4)
        current["rollouts"] = [
            {"model": "qwen", "phase": "Progressing", "step": 2, "steps": 4, "paused": False,
             "message": "analysis passed", "weights": {"v1": 75, "v2": 25}}
        ]  # fmt: skip
        current["batching"] = {"bge/embeddings": {"queued": 3, "batches": 41, "avg_batch_size": 7.5}}
        return current

    proxy.app.status.state = state
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(proxy.admin_url + "/")

    row = page.locator('tr[data-endpoint="127.0.0.1:9"]')
    await expect(row).to_contain_text("93%")
    await expect(row.locator("td").nth(5)).to_have_text("7")
    await expect(row).to_contain_text("0.4s")
    rollout = page.locator('tr[data-rollout="qwen"]')
    await expect(rollout).to_contain_text("Progressing")
    await expect(rollout).to_contain_text("v1=75  v2=25")
    await expect(rollout).to_contain_text("step 2/4 · analysis passed")
    await expect(page.locator("#batching-body")).to_contain_text("bge/embeddings")
    await expect(page.locator("#batching-body")).to_contain_text("batches=41")
    assert problems == []
    await page.close()
