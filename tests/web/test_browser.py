"""End to end in headless Chromium: home page → a story → its score breakdown and translation,
then a translation requested with the page's button (against the fake LLM on loopback).

Skips when Chromium or Playwright is missing, unless AINEWS_REQUIRE_BROWSER=1 (CI) makes that a
failure. Screenshots land in tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import create_web_app
from bot.config import Settings
from tests.fakes.llm_server import fake_japanese, running_fake_llm
from tests.waiting import until
from tests.web.conftest import serve, web_context
from tests.web.seed import seed_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("AINEWS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _need_browser(reason: str) -> None:
    if os.environ.get("AINEWS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"AINEWS_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
async def site(sqlite_url: str) -> AsyncIterator[str]:
    async with running_fake_llm() as fake:
        llm = {"base_url": fake.base_url, "model": "fake-model", "timeout": 5.0, "max_retries": 0}
        # The browser's Origin is checked against base_url, so the site must live at base_url.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        settings = Settings.model_validate(
            {
                "database": {"url": sqlite_url},
                "web": {"base_url": f"http://127.0.0.1:{port}"},
                "llm": llm,
            }
        )
        ctx = await web_context(settings)
        try:
            await seed_store(ctx.db)
            async for url in serve(create_web_app(ctx), port=port):
                yield url
        finally:
            await ctx.aclose()


async def request_a_translation(page: Any) -> None:
    """Press the translate button (a plain form POST from the browser) and wait for the result."""
    await page.locator("li.story a.title", has_text="GPU supply").click()
    await page.wait_for_url("**/a/*")
    button = page.locator(".translation-status button")
    assert await button.inner_text() == "日本語に翻訳する"
    await button.click()
    await page.wait_for_url("**#translation")

    async def complete() -> bool:
        if await page.locator(".status-complete").count():
            return True
        await page.reload()
        return False

    await until(complete, what="the page to show the translation complete")
    assert await page.locator(".status-complete").inner_text() == "翻訳済み"
    shown = fake_japanese("It scores higher on maths benchmarks and costs less per token.")
    assert shown in await page.locator(".column.translation").inner_text()


async def test_reader_follows_a_story_to_its_scores_and_translation(site: str) -> None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _need_browser(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _need_browser("playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
                context = await browser.new_context(
                    viewport={"width": width, "height": height},
                    locale="ja-JP",
                    is_mobile=name == "phone",
                )
                page = await context.new_page()
                page.on(
                    "console",
                    lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
                )
                page.on("pageerror", lambda exc: console_errors.append(str(exc)))
                await page.goto(site + "/")
                assert await page.locator("h1").inner_text() == "最新の記事"
                assert await page.locator("li.story").count() == 5
                # the story carried by two sources is one line; follow it
                await page.locator("li.story a.title", has_text="OpenAI").click()
                await page.wait_for_url("**/a/*")
                assert await page.locator(".rubric tbody tr").count() == 4
                # the related coverage leads to the article with the Japanese translation
                await page.locator(".related a").first.click()
                await page.wait_for_load_state()
                assert "OpenAI releases a reasoning model" in await page.locator("h1").inner_text()
                depth = page.locator(".rubric tr.dim-depth")
                assert "深さ" in await depth.inner_text() and "40%" in await depth.inner_text()
                mean = await page.locator(".rubric .mean").inner_text()
                assert mean == "加重平均 4.1 → 重要度 4"
                assert await page.locator(".status-complete").inner_text() == "翻訳済み"
                translation = page.locator(".column.translation")
                original = page.locator(".column.original")
                assert "推論モデル" in await translation.inner_text()
                assert "reasoning model" in await original.inner_text()
                left = await translation.bounding_box()
                right = await original.bounding_box()
                assert left is not None and right is not None
                if name == "desktop":  # side by side
                    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + 200
                else:  # stacked, and nothing wider than the screen
                    assert right["y"] > left["y"] + left["height"] - 1
                    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
                    assert scroll_width <= width
                await page.screenshot(
                    path=str(ARTIFACTS / f"web-article-{name}.png"), full_page=True
                )
                await page.goto(site + "/")
                await page.screenshot(path=str(ARTIFACTS / f"web-home-{name}.png"), full_page=True)
                if name == "desktop":
                    await request_a_translation(page)
                await context.close()
        finally:
            await browser.close()
    assert console_errors == []  # includes CSP violations, which Chromium reports as errors
