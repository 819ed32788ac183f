"""Retention: delete articles older than a cutoff with their enrichments and translations.

The outbox is the one thing pruning must never break: a delivery that has not been sent yet
(pending, sending, or failed and waiting to be resumed) still names its articles and stories, so
those articles are kept whatever their age. Stories left without articles go too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import SENT, SKIPPED
from bot.runtime import StoreContext
from bot.store.schema import ArticleRow, Delivery, EnrichmentRow, Story, TranslationRow

ID_BATCH = 500


@dataclass(frozen=True, slots=True)
class PruneReport:
    """The `ainews db prune --json` shape: what went (or would go) and what was kept on purpose."""

    articles: int
    translations: int
    kept_undelivered: int

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def _ids_in(value: Any, key: str) -> Iterator[int]:
    """Every integer under `key` anywhere in a JSON payload (digest items, alert items)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == key and isinstance(inner, int):
                yield inner
            else:
                yield from _ids_in(inner, key)
    elif isinstance(value, list):
        for inner in value:
            yield from _ids_in(inner, key)


async def _undelivered_references(session: AsyncSession) -> tuple[set[int], set[int]]:
    """Article and story ids named by outbox rows not yet delivered."""
    article_ids: set[int] = set()
    story_ids: set[int] = set()
    payloads = await session.scalars(
        select(Delivery.payload).where(Delivery.status.not_in((SENT, SKIPPED)))
    )
    for payload in payloads:
        article_ids.update(_ids_in(payload, "article_id"))
        story_ids.update(_ids_in(payload, "story_id"))
    return article_ids, story_ids


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), ID_BATCH):
        yield ordered[start : start + ID_BATCH]


async def prune(ctx: StoreContext, older_than: timedelta, *, dry_run: bool = False) -> PruneReport:
    """Delete (or, dry, count) articles fetched and published before now − `older_than`."""
    cutoff: datetime = ctx.clock.now() - older_than
    async with ctx.db.session() as session:
        old = (
            await session.execute(
                select(ArticleRow.id, ArticleRow.story_id).where(
                    ArticleRow.published_at < cutoff, ArticleRow.fetched_at < cutoff
                )
            )
        ).all()
        kept_articles, kept_stories = await _undelivered_references(session)
        doomed = [
            article_id
            for article_id, story_id in old
            if article_id not in kept_articles and story_id not in kept_stories
        ]
        kept = len(old) - len(doomed)
        translations = 0
        for chunk in _chunks(doomed):
            translations += int(
                await session.scalar(
                    select(func.count())
                    .select_from(TranslationRow)
                    .where(TranslationRow.article_id.in_(chunk))
                )
                or 0
            )
        report = PruneReport(articles=len(doomed), translations=translations, kept_undelivered=kept)
        if dry_run or not doomed:
            await session.rollback()
            return report
        story_ids = {story_id for _, story_id in old if story_id is not None}
        for chunk in _chunks(doomed):
            # enrichments and translations go with their article (ON DELETE CASCADE); said
            # explicitly too, so a SQLite connection without foreign keys leaves no orphans
            await session.execute(
                delete(TranslationRow).where(TranslationRow.article_id.in_(chunk))
            )
            await session.execute(delete(EnrichmentRow).where(EnrichmentRow.article_id.in_(chunk)))
            await session.execute(delete(ArticleRow).where(ArticleRow.id.in_(chunk)))
        await _drop_orphan_stories(session, story_ids)
    return report


async def _drop_orphan_stories(session: AsyncSession, story_ids: set[int]) -> None:
    for chunk in _chunks(story_ids):
        still_used = select(ArticleRow.id).where(ArticleRow.story_id == Story.id).exists()
        await session.execute(
            delete(Story)
            .where(Story.id.in_(chunk), ~still_used)
            .execution_options(synchronize_session=False)
        )
