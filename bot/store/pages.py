"""Read queries for browsing the store: latest stories, tags, search, archive days and metrics.

The web view is their first user; they return the same `StoryCandidate` objects digests use, so
any surface can list stories without new row-to-object code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ColumnExpressionArgument, Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.read import candidate_query, like_contains, load_candidates
from bot.store.schema import (
    ArticleRow,
    Delivery,
    EnrichmentRow,
    LLMUsage,
    Source,
    Story,
    TranslationRow,
)
from digest.build import one_per_story
from digest.models import StoryCandidate

# Rows read per story shown: several articles of one story collapse into one line.
OVERFETCH = 4
MAX_SEARCH_WORDS = 8
MAX_WORD_CHARS = 100


def newest_first(candidates: Sequence[StoryCandidate], limit: int) -> list[StoryCandidate]:
    """One line per story (its best article), newest story first."""
    best = one_per_story(candidates)
    best.sort(key=lambda c: (c.published_at, c.article_id), reverse=True)
    return best[:limit]


def tag_filter(tag: str) -> ColumnElement[bool]:
    """A portable prefilter on the JSON tag list (SQLite and PostgreSQL store it as text);
    both spellings of non-ASCII tags match, whichever JSON serialiser wrote the row."""
    as_text = cast(EnrichmentRow.tags, Text)
    spellings = {json.dumps(tag.lower()), json.dumps(tag.lower(), ensure_ascii=False)}
    return or_(*(as_text.ilike(like_contains(quoted), escape="\\") for quoted in spellings))


async def latest_stories(
    session: AsyncSession,
    *,
    limit: int = 50,
    tag: str | None = None,
    min_importance: int | None = None,
) -> list[StoryCandidate]:
    """The newest stories, optionally only those with a tag or at least some importance."""
    query = candidate_query().order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc())
    if tag is not None:
        query = query.where(tag_filter(tag))
    if min_importance is not None:
        query = query.where(EnrichmentRow.importance >= min_importance)
    candidates = await load_candidates(session, query.limit(limit * OVERFETCH))
    if tag is not None:
        wanted = tag.lower()
        candidates = [c for c in candidates if wanted in {t.lower() for t in c.tags}]
    return newest_first(candidates, limit)


def search_words(text: str) -> list[str]:
    """Split a query into at most a few bounded words, so a huge query stays a cheap one."""
    return [w[:MAX_WORD_CHARS] for w in text.split()][:MAX_SEARCH_WORDS]


async def search_stories(
    session: AsyncSession, text: str, *, limit: int = 50
) -> list[StoryCandidate]:
    """Stories whose title, translated title, TL;DR or tags contain every word (any case)."""
    words = search_words(text)
    if not words:
        return []
    query = candidate_query().order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc())
    for word in words:
        pattern = like_contains(word)
        query = query.where(
            or_(
                ArticleRow.title.ilike(pattern, escape="\\"),
                EnrichmentRow.title_translated.ilike(pattern, escape="\\"),
                EnrichmentRow.tldr.ilike(pattern, escape="\\"),
                tag_filter(word),
            )
        )
    return newest_first(await load_candidates(session, query.limit(limit * OVERFETCH)), limit)


async def tag_counts(session: AsyncSession, *, recent: int = 2000) -> list[tuple[str, int]]:
    """Tags of the most recent enrichments with how many articles carry each, commonest first."""
    rows = await session.scalars(
        select(EnrichmentRow.tags).order_by(EnrichmentRow.id.desc()).limit(recent)
    )
    counts: Counter[str] = Counter()
    for tags in rows:
        counts.update({str(t).lower() for t in tags or ()})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


async def article_days(session: AsyncSession, tz: str, *, recent: int = 5000) -> list[date]:
    """Local calendar days (newest first) on which the most recent articles were published."""
    zone = ZoneInfo(tz)
    stamps = await session.scalars(
        select(ArticleRow.published_at).order_by(ArticleRow.published_at.desc()).limit(recent)
    )
    return sorted({stamp.astimezone(zone).date() for stamp in stamps}, reverse=True)


@dataclass(frozen=True, slots=True)
class StoreMetrics:
    """Counts read from the store for the Prometheus endpoint."""

    articles: int
    stories: int
    enrichments: int
    sources: int
    sources_with_errors: int
    sources_disabled: int
    articles_by_enrich_status: dict[str, int] = field(default_factory=dict)
    enrichments_by_engine: dict[str, int] = field(default_factory=dict)
    deliveries_by_status: dict[str, int] = field(default_factory=dict)
    translations_by_status: dict[str, int] = field(default_factory=dict)
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    llm_cost_usd: float = 0.0
    newest_article_at: datetime | None = None


async def _grouped(session: AsyncSession, column: Any) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {str(key): int(count) for key, count in rows}


def _count(model: Any, *where: ColumnExpressionArgument[bool]) -> Any:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


async def store_metrics(session: AsyncSession) -> StoreMetrics:
    """The totals in one query plus four grouped counts; cheap enough to run on every scrape."""
    totals = (
        await session.execute(
            select(
                _count(ArticleRow),
                _count(Story),
                _count(EnrichmentRow),
                _count(Source),
                _count(Source, Source.error_count > 0),
                _count(Source, Source.disabled),
                select(func.coalesce(func.sum(LLMUsage.tokens_in), 0)).scalar_subquery(),
                select(func.coalesce(func.sum(LLMUsage.tokens_out), 0)).scalar_subquery(),
                select(func.coalesce(func.sum(LLMUsage.cost_usd), 0.0)).scalar_subquery(),
                select(func.max(ArticleRow.published_at)).scalar_subquery(),
            )
        )
    ).one()
    return StoreMetrics(
        articles=int(totals[0]),
        stories=int(totals[1]),
        enrichments=int(totals[2]),
        sources=int(totals[3]),
        sources_with_errors=int(totals[4]),
        sources_disabled=int(totals[5]),
        articles_by_enrich_status=await _grouped(session, ArticleRow.enrich_status),
        enrichments_by_engine=await _grouped(session, EnrichmentRow.engine),
        deliveries_by_status=await _grouped(session, Delivery.status),
        translations_by_status=await _grouped(session, TranslationRow.status),
        llm_tokens_in=int(totals[6]),
        llm_tokens_out=int(totals[7]),
        llm_cost_usd=float(totals[8]),
        newest_article_at=totals[9],
    )
