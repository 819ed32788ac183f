"""A store holding the seed's sections, fed by the real samples through the real pipeline.

GitHub trending (seen on two days, the second with more stars), Hugging Face trending models and
the YouTube sample are ingested with `ingest_feed_bytes` and enriched offline; a synthetic month
of company stories (with explicit entities and tags) gives trends and company pages a history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.context import AppContext
from bot.enrich.pipeline import enrich_pending
from bot.ingest.poll import ingest_feed_bytes
from bot.store.schema import ArticleRow, EnrichmentRow, Source

FEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "feeds"
GITHUB_DAILY = FEEDS / "tools" / "ai-news-direct_github_trends_daily_2025-12-22.xml"
HF_MODELS = FEEDS / "tools" / "ai-news-direct_huggingface_trending_models_2025-12-22.xml"
YOUTUBE = FEEDS / "real" / "feedjira_youtube_atom.xml"


@dataclass(frozen=True, slots=True)
class SectionsSeed:
    gemma_article: int
    anthropic_articles: int


def _enrichment(article_id: int, tags: list[str], entities: list[str]) -> EnrichmentRow:
    return EnrichmentRow(
        article_id=article_id,
        tldr="A synthetic story for the sections.",
        key_points=[],
        tags=tags,
        depth=3,
        relevance=4,
        practicality=3,
        innovation=3,
        reasons={},
        importance=3,
        lang="en",
        engine="offline",
        is_ai=True,
        kind="news",
        entities=entities,
    )


async def _month(ctx: AppContext, now: datetime) -> SectionsSeed:
    """Anthropic rising this week (3 a day vs one every other day), OpenAI steady, a Gemma
    story with a related Gemma benchmark, #agents new this week."""
    async with ctx.db.session() as session:
        wire = Source(name="Lab Wire", url="https://wire.example.com/feed.xml", lang="en")
        session.add(wire)
        await session.flush()
        rows: list[tuple[ArticleRow, list[str], list[str]]] = []

        def add(ident: str, title: str, when: datetime, tags: list[str], ents: list[str]) -> None:
            row = ArticleRow(
                source_id=wire.id,
                identity=ident,
                guid=ident,
                url=f"https://wire.example.com/{ident}",
                canonical_url=f"https://wire.example.com/{ident}",
                title=title,
                content=title,
                lang="en",
                published_at=when,
                enrich_status="done",
                entities=ents,
            )
            session.add(row)
            rows.append((row, tags, ents))

        anthropic = 0
        for offset in range(35):
            day = now - timedelta(days=offset, hours=1)
            add(f"openai-{offset}", f"OpenAI note {offset}", day, ["llm"], ["openai"])
            if offset < 7:
                for n in range(3):
                    add(
                        f"anthropic-{offset}-{n}",
                        f"Anthropic ships Claude update {offset}.{n}",
                        day - timedelta(minutes=n),
                        ["agents"],
                        ["anthropic", "claude"],
                    )
                    anthropic += 1
            elif offset % 2 == 0:
                add(f"anthropic-{offset}", f"Anthropic paper {offset}", day, ["llm"], ["anthropic"])
                anthropic += 1
        add(
            "gemma-bench",
            "Gemma 3 tops a small-model benchmark",
            now - timedelta(days=9),
            ["benchmark"],
            ["gemma", "google"],
        )
        add(
            "gemma-launch",
            "Google releases Gemma 4",
            now - timedelta(hours=2),
            ["llm"],
            ["gemma", "google"],
        )
        await session.flush()
        for row, tags, ents in rows:
            session.add(_enrichment(row.id, tags, ents))
        gemma = next(row.id for row, _, _ in rows if row.identity == "gemma-launch")
    return SectionsSeed(gemma_article=gemma, anthropic_articles=anthropic)


async def _ingest(ctx: AppContext, name: str, url: str, body: bytes, at: datetime) -> None:
    async with ctx.db.session() as session:
        source = Source(name=name, url=url)
        session.add(source)
        await session.flush()
        source_id = source.id
    async with ctx.db.session() as session:
        stored = await session.get(Source, source_id)
        assert stored is not None
        await ingest_feed_bytes(ctx, stored, body, fetched_at=at, full_text=False)


async def seed_sections(ctx: AppContext) -> SectionsSeed:
    now = ctx.clock.now()
    day_one = GITHUB_DAILY.read_bytes()
    github = "https://feeds.example.com/github-trending-daily.xml"
    await _ingest(ctx, "GitHub Trending", github, day_one, now - timedelta(days=1))
    day_two = day_one.replace(b"36,209 stars", b"37,570 stars").replace(
        b"1,150 stars today", b"1,361 stars today"
    )
    async with ctx.db.session() as session:
        source = await session.scalar(select(Source).where(Source.url == github))
        assert source is not None
        await ingest_feed_bytes(ctx, source, day_two, fetched_at=now, full_text=False)
    await _ingest(
        ctx, "HF trending models", "https://feeds.example.com/hf.xml", HF_MODELS.read_bytes(), now
    )
    await _ingest(
        ctx, "Google on YouTube", "https://feeds.example.com/yt.xml", YOUTUBE.read_bytes(), now
    )
    await enrich_pending(ctx)
    return await _month(ctx, now)
