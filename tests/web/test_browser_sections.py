"""The seed's sections in headless Chromium at desktop and phone widths: every new page renders,
its chart or thumbnails show, nothing overflows the screen and the console stays clean (CSP
violations included). Thumbnails are answered by the test (no network): the CSP must let them in.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import create_web_app
from bot.config import Settings
from digest.charts import png_line_chart
from tests.sections_seed import SectionsSeed, seed_sections
from tests.web.conftest import serve, web_context
from tests.web.seed import seed_store
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _need_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THUMBNAIL = png_line_chart([("t", [1, 3, 2])], width=48, height=36)


@pytest.fixture
async def site(sqlite_url: str) -> AsyncIterator[tuple[str, SectionsSeed]]:
    settings = Settings.model_validate(
        {"database": {"url": sqlite_url}, "web": {"base_url": "https://news.example.org"}}
    )
    ctx = await web_context(settings)
    try:
        await seed_store(ctx.db)
        seed = await seed_sections(ctx)
        async for url in serve(create_web_app(ctx)):
            yield url, seed
    finally:
        await ctx.aclose()


async def _check_page(page: Any, name: str, width: int) -> None:
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} is wider than the screen"
    await page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


async def test_sections_render_at_desktop_and_phone_widths(
    site: tuple[str, SectionsSeed],
) -> None:
    base, seed = site
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _need_browser(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _need_browser("playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    thumbnails_served: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
                context = await browser.new_context(
                    viewport={"width": width, "height": height},
                    locale="en-US",
                    is_mobile=name == "phone",
                )

                async def thumbnail(route: Any) -> None:
                    thumbnails_served.append(route.request.url)
                    await route.fulfill(status=200, content_type="image/png", body=THUMBNAIL)

                await context.route("https://*.ytimg.com/**", thumbnail)
                page = await context.new_page()
                page.on(
                    "console",
                    lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
                )
                page.on("pageerror", lambda exc: console_errors.append(str(exc)))

                await page.goto(base + "/tools?lang=en")
                assert await page.locator("h1").inner_text() == "AI tools by momentum"
                assert await page.locator("li.tool").count() >= 20
                assert "37,570 stars" in await page.locator("ol.tools").inner_text()
                await _check_page(page, f"tools-{name}", width)

                await page.goto(base + "/videos?lang=en")
                assert await page.locator("li.video").count() == 15
                first = page.locator("li.video img").first
                await first.scroll_into_view_if_needed()
                await page.wait_for_function(
                    "() => { const i = document.querySelector('li.video img');"
                    " return i && i.complete && i.naturalWidth > 0; }"
                )
                await _check_page(page, f"videos-{name}", width)

                await page.goto(base + "/trends?lang=en")
                chart = page.locator("figure.chart svg")
                box = await chart.bounding_box()
                assert box is not None and 0 < box["width"] <= width
                assert await page.locator("figure.chart polyline").count() >= 2
                assert "Anthropic" in await page.locator("table.risers").inner_text()
                await _check_page(page, f"trends-{name}", width)

                await page.goto(base + "/companies?lang=en")
                await page.locator("ul.companies a", has_text="Anthropic").click()
                await page.wait_for_url("**/companies/anthropic*")
                assert await page.locator("h1").inner_text() == "Anthropic"
                assert await page.locator(".company-trend polyline").count() == 1
                await _check_page(page, f"company-{name}", width)

                await page.goto(base + f"/a/{seed.gemma_article}?lang=en")
                related = page.locator(".related-stories li")
                assert await related.count() >= 1
                assert "also about Gemma" in await related.first.inner_text()
                await page.locator(".related-stories a").first.click()
                await page.wait_for_url("**/a/*")
                await _check_page(page, f"related-{name}", width)
                await context.close()
        finally:
            await browser.close()
    assert thumbnails_served, "the CSP let the thumbnails load"
    assert console_errors == []
