"""RSS re-parsed with feedparser; Prometheus text parsed with prometheus_client; health check."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.web import create_web_app
from bot.config import DatabaseSettings
from bot.context import AppContext
from bot.store.db import Database
from bot.store.schema import ArticleRow, EnrichmentRow, Source
from tests.web.conftest import serve, web_context
from tests.web.seed import HOSTILE_TITLE, NOW, Seeded


async def test_feed_is_valid_rss_of_important_stories(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    assert response.headers["x-content-type-options"] == "nosniff"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    links = [entry.link for entry in parsed.entries]
    # importance >= 4 only (default feed_min_importance), one per story, newest first
    assert links == [
        f"https://news.example.org/a/{seeded.hostile}",
        f"https://news.example.org/a/{seeded.main_hn}",
        f"https://news.example.org/a/{seeded.old}",
    ]
    assert [entry.id for entry in parsed.entries] == links
    assert parsed.entries[0].title == HOSTILE_TITLE  # kept as text, XML-escaped on the wire
    assert b"<script>" not in response.content
    assert parsed.entries[1].summary == "HNでの議論。"
    assert {t.term for t in parsed.entries[2].tags} == {"agents"}
    published = [entry.published_parsed for entry in parsed.entries]
    assert published == sorted(published, reverse=True)
    assert parsed.feed.link == "https://news.example.org/"


async def test_feed_survives_control_characters_and_caps_items(
    web_ctx: AppContext, db: Database, seeded: Seeded
) -> None:
    async with db.session() as session:
        source = Source(name="Bulk", url="https://bulk.example.com/rss")
        session.add(source)
        await session.flush()
        for n in range(60):
            article = ArticleRow(
                source_id=source.id,
                identity=f"bulk{n}",
                title=f"Item {n}\x0b\x01 with control chars",
                url=f"https://bulk.example.com/{n}",
                published_at=NOW - timedelta(days=10, minutes=n),
            )
            session.add(article)
            await session.flush()
            session.add(
                EnrichmentRow(
                    article_id=article.id,
                    depth=5,
                    relevance=5,
                    practicality=5,
                    innovation=5,
                    importance=5,
                    engine="offline",
                    tldr="bulk \x1f item",
                )
            )
    async for url in serve(create_web_app(web_ctx)):
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/feed.xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 50
    assert parsed.entries[-1].title.startswith("Item ")
    assert "\x0b" not in parsed.entries[-1].title


async def test_metrics_parse_as_prometheus_text(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("ainews_articles_total", ())] == 6
    assert samples[("ainews_enrichments_total", ())] == 5
    assert samples[("ainews_stories", ())] == 2
    assert samples[("ainews_sources", ())] == 4
    assert samples[("ainews_sources_with_fetch_errors", ())] == 1
    assert samples[("ainews_deliveries", (("status", "sent"),))] == 1
    assert samples[("ainews_deliveries", (("status", "failed"),))] == 1
    assert samples[("ainews_deliveries", (("status", "pending"),))] == 1
    assert samples[("ainews_translations", (("status", "partial"),))] == 1
    assert samples[("ainews_articles_by_enrich_status", (("status", "pending"),))] == 1
    assert samples[("ainews_enrichments_by_engine", (("engine", "offline"),))] == 5
    assert (
        samples[("ainews_newest_article_published_timestamp_seconds", ())]
        == (NOW - timedelta(minutes=30)).timestamp()
    )


async def test_healthz_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_unreachable_database_gives_503_health_and_a_500_page(
    web_ctx: AppContext,
) -> None:
    # port 9 on loopback: nothing listens, the connection is refused at once
    broken = DatabaseSettings(url="postgresql://postgres@127.0.0.1:9/none")
    ctx = await web_context(web_ctx.settings.model_copy(update={"database": broken}))
    try:
        async for url in serve(create_web_app(ctx)):
            async with httpx.AsyncClient(base_url=url, timeout=20) as http:
                health = await http.get("/healthz")
                page = await http.get("/")
    finally:
        await ctx.aclose()
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "reasons": ["database unreachable"]}
    assert page.status_code == 500
    assert "Traceback" not in page.text and "psycopg" not in page.text
    assert "Something went wrong" in page.text or "エラーが発生しました" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
