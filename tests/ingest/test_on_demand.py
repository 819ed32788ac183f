"""On-demand page fetch and ingest of bytes in hand (the offline demo's path)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.errors import BlockedAddressError, FetchError
from bot.ingest.on_demand import fetch_article
from bot.ingest.poll import ingest_feed_bytes
from bot.store.schema import ArticleRow, Source, Story
from bot.store.sources import ON_DEMAND_NAME
from tests.fakes.feed_server import FeedServer


async def test_fetch_article_stores_once(
    feed_server: FeedServer, make_ingest: Any, fixtures_dir: Path
) -> None:
    page = (fixtures_dir / "html" / "readability_ars-1_source.html").read_bytes()
    url = feed_server.body("/story.html", page, headers={"Content-Type": "text/html"})
    ctx = await make_ingest()
    first = await fetch_article(ctx, url + "?utm_source=x")
    second = await fetch_article(ctx, url)
    assert first == second
    async with ctx.db.session() as session:
        row = await session.get(ArticleRow, first)
        assert row is not None
        source = await session.get(Source, row.source_id)
        assert source is not None and source.name == ON_DEMAND_NAME and source.kind == "page"
        assert row.story_id is not None and row.full_text and len(row.content) > 2000
        assert row.enrich_status == "pending" and row.title
    assert len(feed_server.requests) == 1


async def test_fetch_article_errors_are_clear(feed_server: FeedServer, make_ingest: Any) -> None:
    ctx = await make_ingest()
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetch_article(ctx, feed_server.url("/missing"))
    with pytest.raises(BlockedAddressError):
        await fetch_article(ctx, "file:///etc/passwd")
    guarded = await make_ingest(fetch={"allow_private_networks": False})
    with pytest.raises(BlockedAddressError):
        await fetch_article(guarded, feed_server.url("/anything"))


async def test_ingest_feed_bytes_needs_no_network(make_ingest: Any, fixtures_dir: Path) -> None:
    ctx = await make_ingest(
        [{"name": "Zenn", "url": "https://zenn.example.test/feed", "lang": "ja"}],
        fetch={"full_text": True},
    )
    await ctx.fetcher.aclose()  # any fetch attempt would now fail loudly
    body = (fixtures_dir / "feeds" / "real" / "my-tech-blog-rss-feed_zenn_rss.xml").read_bytes()
    async with ctx.db.session() as session:
        source = await session.scalar(select(Source))
    assert source is not None
    fetched_at = datetime(2026, 8, 23, tzinfo=UTC)
    assert await ingest_feed_bytes(ctx, source, body, fetched_at=fetched_at, full_text=False) == 20
    assert await ingest_feed_bytes(ctx, source, body, fetched_at=fetched_at, full_text=False) == 0
    async with ctx.db.session() as session:
        langs = set((await session.scalars(select(ArticleRow.lang))).all())
        stories = await session.scalar(select(func.count(Story.id)))
    assert langs == {"ja"} and stories and stories > 0
