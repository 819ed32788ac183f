"""Related stories of one article: candidates from the store, choice by `digest.related`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.schema import ArticleRow, EnrichmentRow
from digest.knowledge import knowledge
from digest.models import RelatedStory
from digest.related import RelatedCandidate, related_stories

__all__ = ["find_related"]

WINDOW = timedelta(days=60)
_CANDIDATE_CAP = 3000


async def find_related(
    session: AsyncSession,
    *,
    article_id: int,
    story_id: int | None,
    published_at: datetime,
    entities: tuple[str, ...],
    tags: tuple[str, ...],
) -> list[RelatedStory]:
    """Up to five stories within two months either side that share entities or topic."""
    if not entities and not tags and story_id is None:
        return []
    rows = await session.execute(
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            ArticleRow.title,
            ArticleRow.published_at,
            ArticleRow.entities,
            EnrichmentRow.entities,
            EnrichmentRow.tags,
        )
        .outerjoin(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
        .where(
            ArticleRow.published_at >= published_at - WINDOW,
            ArticleRow.published_at <= published_at + WINDOW,
            ArticleRow.id != article_id,
        )
        .order_by(ArticleRow.published_at.desc())
        .limit(_CANDIDATE_CAP)
    )
    candidates = [
        RelatedCandidate(
            article_id=rid,
            story_id=rstory,
            title=title,
            published_at=when,
            entities=tuple(dict.fromkeys([*(judged or ()), *(found or ())])),
            tags=tuple(rtags or ()),
        )
        for rid, rstory, title, when, found, judged, rtags in rows
    ]
    known = knowledge().gazetteer.entities
    names = {slug: e.name for slug, e in known.items()}
    # the most telling reason first: a model or tool says more than the company behind it
    ranked = tuple(
        sorted(
            entities,
            key=lambda s: (known[s].type == "company", known[s].tier) if s in known else (True, 9),
        )
    )
    return related_stories(article_id, story_id, ranked, tags, candidates, names)
