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


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
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
    await expect(sick_health).to_have_text("unhealthy", timeout=15_000)
    await expect(well_health).to_have_text("healthy")

    proxy.app.overrides.set("m", {"v1": 70, "v2": 30})
    split = page.locator('tr[data-model="m"] td.weights')
    await expect(split).to_contain_text("v1 70", timeout=15_000)
    await expect(split).to_contain_text("v2 30")

    await expect(page.locator("#conn")).to_contain_text("live")
    assert problems == []
    await page.close()
