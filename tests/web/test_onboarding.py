"""First run: while the store is empty or sources fail, the home page says what is happening and
what to do, and `/sources` lists every source's health — over HTTP and in headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.web import create_web_app
from bot.config import Settings
from bot.store.db import Database
from bot.store.schema import Source
from tests.web.conftest import serve, web_context
from tests.web.seed import seed_store
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

CHECKED = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def _sources(db: Database) -> None:
    async with db.session() as session:
        session.add(
            Source(
                name="Broken Blog",
                url="https://broken.example/feed",
                error_count=3,
                last_error="HTTP 404 from https://broken.example/feed",
                last_checked_at=CHECKED,
            )
        )
        session.add(Source(name="Fresh Feed", url="https://fresh.example/feed"))
        session.add(
            Source(
                name="Working Wire",
                url="https://wire.example/feed",
                last_checked_at=CHECKED,
                last_success_at=CHECKED,
            )
        )


@pytest.fixture
async def site(
    db: Database, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[str, Database]]:
    ctx = await web_context(make_settings())
    try:
        async for url in serve(create_web_app(ctx)):
            yield url, db
    finally:
        await ctx.aclose()


async def test_empty_store_explains_itself(site: tuple[str, Database]) -> None:
    url, db = site
    async with httpx.AsyncClient(base_url=url) as http:
        empty = (await http.get("/?lang=en")).text
        assert "Getting started" in empty and "No sources are configured" in empty
        assert "ainews demo --into-store" in empty
        await _sources(db)
        page = (await http.get("/?lang=en")).text
        assert "3 sources: 1 ok, 1 failing, 0 disabled, 1 not fetched yet." in page
        assert "HTTP 404 from https://broken.example/feed" in page
        assert "ainews sources remove &lt;id&gt;" in page
        ja = (await http.get("/?lang=ja")).text
        assert "はじめに" in ja and "失敗中" in ja and "未取得" in ja
        health = await http.get("/sources?lang=en")
        assert health.status_code == 200
        rows = health.text.split('<tr class="source ')[1:]
        assert [row.split('"')[0] for row in rows] == [
            "state-failing",
            "state-never",
            "state-ok",
        ]
        assert "never" in rows[1] and "November 28, 2026 11:00" in rows[0]  # Tokyo time


async def test_a_working_store_shows_no_panel(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    await seed_store(db)
    ctx = await web_context(make_settings())
    try:
        async for url in serve(create_web_app(ctx)):
            async with httpx.AsyncClient(base_url=url) as http:
                async with db.session() as session:
                    await session.execute(
                        Source.__table__.update().values(
                            last_checked_at=CHECKED, error_count=0, disabled=False
                        )
                    )
                home = (await http.get("/?lang=en")).text
                assert "Getting started" not in home
                health = (await http.get("/sources?lang=en")).text
                assert "Source health" in health and "state-ok" in health
    finally:
        await ctx.aclose()


@pytest.mark.browser
async def test_onboarding_in_headless_chromium(site: tuple[str, Database]) -> None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _need_browser(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _need_browser("playwright is not installed")
    url, db = site
    await _sources(db)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="en-US")
            await page.goto(url + "/?lang=en")
            panel = page.locator("section.onboarding")
            assert await panel.locator("h2").inner_text() == "Getting started"
            assert await panel.locator("tr.state-failing td.error").inner_text() == (
                "HTTP 404 from https://broken.example/feed"
            )
            await page.locator("nav.main a", has_text="Sources").click()
            await page.wait_for_url("**/sources*")
            assert await page.locator("h1").inner_text() == "Source health"
            assert await page.locator("tr.source").count() == 3
        finally:
            await browser.close()
