"""Store queries behind `/ainews search`, `tags` and `sources`: read-only, bounded, fast."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.read import like_contains, scores_of
from bot.store.schema import ArticleRow, EnrichmentRow, Source
from digest.models import ArticleCard

MAX_RESULTS = 10
# A page of recent tag rows is enough to count a week; it keeps `tags` fast on a huge store.
MAX_TAG_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source as `/ainews sources` shows it."""

    name: str
    ok: bool
    disabled: bool
    error_count: int
    last_error: str | None


async def search_articles(
    session: AsyncSession, words: list[str], *, limit: int = MAX_RESULTS
) -> list[ArticleCard]:
    """Articles whose title or text contains every word, most important then newest first."""
    conditions = [
        or_(
            ArticleRow.title.ilike(like_contains(word), escape="\\"),
            ArticleRow.content.ilike(like_contains(word), escape="\\"),
        )
        for word in words
    ]
    rows = await session.execute(
        select(ArticleRow, Source.name, EnrichmentRow)
        .join(Source, Source.id == ArticleRow.source_id)
        .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
        .where(and_(*conditions))
        .order_by(
            EnrichmentRow.importance.desc().nulls_last(),
            ArticleRow.published_at.desc(),
            ArticleRow.id.desc(),
        )
        .limit(limit)
    )
    return [
        ArticleCard(
            article_id=article.id,
            story_id=article.story_id,
            title=article.title,
            url=article.url or article.canonical_url,
            source=source_name,
            published_at=article.published_at,
            lang=article.lang,
            reading_minutes=article.reading_minutes,
            tldr=enrichment.tldr if enrichment else "",
            key_points=(),
            tags=tuple(enrichment.tags) if enrichment else (),
            scores=scores_of(enrichment) if enrichment else None,
            importance=enrichment.importance if enrichment else None,
            title_translated=enrichment.title_translated if enrichment else "",
        )
        for article, source_name, enrichment in rows
    ]


async def recent_tags(
    session: AsyncSession, since: datetime, *, limit: int = 30
) -> list[tuple[str, int]]:
    """Tags of articles published since `since`, most frequent first (ties by name)."""
    rows = await session.scalars(
        select(EnrichmentRow.tags)
        .join(ArticleRow, ArticleRow.id == EnrichmentRow.article_id)
        .where(ArticleRow.published_at >= since)
        .order_by(ArticleRow.published_at.desc())
        .limit(MAX_TAG_ROWS)
    )
    counts: Counter[str] = Counter()
    for tags in rows:
        counts.update({str(tag).lower() for tag in tags or ()})
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:limit]


async def source_health(session: AsyncSession) -> list[SourceHealth]:
    """Every source with its fetch health, failing and disabled ones first."""
    sources = await session.scalars(select(Source).order_by(Source.name))
    health = [
        SourceHealth(
            name=source.name,
            ok=not source.disabled and source.error_count == 0,
            disabled=source.disabled,
            error_count=source.error_count,
            last_error=source.last_error,
        )
        for source in sources
    ]
    health.sort(key=lambda h: (not h.disabled, h.ok, h.name.lower()))
    return health
