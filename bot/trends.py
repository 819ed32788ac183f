"""Trends use case: read a month of tags and entities per story, hand them to `digest.trends`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.runtime import StoreContext
from bot.store.schema import ArticleRow, EnrichmentRow
from digest.knowledge import knowledge
from digest.models import ITEM_KINDS
from digest.trends import MAX_DAYS, PREVIOUS_WINDOWS, Mention, TrendReport, report

__all__ = ["MAX_DAYS", "trend_report"]

MIN_COUNT = 3
_ROW_CAP = 50_000
# Kind and event tags say what sort of item it is, not what it is about.
_KIND_TAGS = frozenset({*ITEM_KINDS, "release", "policy", "funding", "ai"})


async def trend_mentions(ctx: StoreContext, days: int) -> list[Mention]:
    """One mention per story per day per tag or entity, over the five windows."""
    now = ctx.clock.now()
    since = now - timedelta(days=days * (PREVIOUS_WINDOWS + 1))
    entities = knowledge().gazetteer.entities
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(
                ArticleRow.id,
                ArticleRow.story_id,
                ArticleRow.published_at,
                ArticleRow.entities,
                EnrichmentRow.tags,
                EnrichmentRow.entities,
            )
            .join(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
            .where(ArticleRow.published_at >= since, ArticleRow.published_at <= now)
            .order_by(ArticleRow.id.desc())
            .limit(_ROW_CAP)
        )
        seen: set[tuple[int, str, str]] = set()
        out: list[Mention] = []
        for article_id, story_id, published_at, found, tags, judged in rows:
            story = story_id if story_id is not None else -article_id
            slugs = {s for s in (*(judged or ()), *(found or ())) if s in entities}
            topics = {t for t in tags or () if t not in entities and t not in _KIND_TAGS}
            for name, kind in [(s, "entity") for s in slugs] + [(t, "tag") for t in topics]:
                key = (story, kind, name)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Mention(published_at.date(), name, kind))  # type: ignore[arg-type]
    return out


async def trend_report(ctx: StoreContext, *, days: int = 7, limit: int = 10) -> TrendReport:
    """Rising tags and entities of the last `days` against the four windows before."""
    days = max(1, min(MAX_DAYS, days))
    mentions = await trend_mentions(ctx, days)
    names = {slug: entity.name for slug, entity in knowledge().gazetteer.entities.items()}
    return report(
        mentions, ctx.clock.now().date(), days=days, min_count=MIN_COUNT, limit=limit, names=names
    )
