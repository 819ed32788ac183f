"""Store what a feed said about videos and tools beside its articles.

A tool is keyed across sources and days (`tools.key`), so the same repository seen again,
in another feed or on another day, updates one row's numbers and adds one snapshot per UTC day
(the history growth is computed from) instead of becoming a new article in the tools section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import NewArticle
from bot.store.schema import ArticleMedia, ArticleRow, ToolRow, ToolSnapshot
from digest.models import Article, ToolInfo, VideoInfo

__all__ = ["record_media"]


async def _new_ids(
    session: AsyncSession, source_id: int, prepared: Sequence[NewArticle]
) -> list[tuple[int, Article]]:
    wanted = {new.identity: new.article for new in prepared if new.article.media is not None}
    if not wanted:
        return []
    rows = await session.execute(
        select(ArticleRow.id, ArticleRow.identity).where(
            ArticleRow.source_id == source_id, ArticleRow.identity.in_(list(wanted))
        )
    )
    return [(row_id, wanted[identity]) for row_id, identity in rows]


async def _video(session: AsyncSession, article_id: int, video: VideoInfo) -> None:
    row = await session.scalar(select(ArticleMedia).where(ArticleMedia.article_id == article_id))
    if row is None:
        row = ArticleMedia(article_id=article_id)
        session.add(row)
    row.video_id = video.video_id
    row.thumbnail = video.thumbnail
    row.channel = video.channel
    row.duration_seconds = video.duration_seconds
    if video.views is not None:
        row.views = video.views


async def _tool(session: AsyncSession, article_id: int, tool: ToolInfo, now: datetime) -> None:
    row = await session.scalar(select(ToolRow).where(ToolRow.key == tool.key))
    if row is None:
        fresh = ToolRow(
            key=tool.key, name=tool.name, kind=tool.kind, article_id=article_id, first_seen_at=now
        )
        try:
            # a savepoint: another replica may have created this tool a moment ago
            async with session.begin_nested():
                session.add(fresh)
            row = fresh
        except IntegrityError:
            row = await session.scalar(select(ToolRow).where(ToolRow.key == tool.key))
            if row is None:
                raise
    for name in ("stars", "stars_today", "forks", "downloads", "likes"):
        value = getattr(tool, name)
        if value is not None:
            setattr(row, name, value)
    for name in ("license", "task", "language"):
        value = getattr(tool, name)
        if value:
            setattr(row, name, value)
    row.last_seen_at = now
    await session.flush()
    day = now.date().isoformat()
    snapshot = await session.scalar(
        select(ToolSnapshot).where(ToolSnapshot.tool_id == row.id, ToolSnapshot.day == day)
    )
    if snapshot is None:
        snapshot = ToolSnapshot(tool_id=row.id, day=day)
        session.add(snapshot)
    snapshot.at = now
    snapshot.stars = tool.stars if tool.stars is not None else row.stars
    snapshot.stars_today = tool.stars_today
    snapshot.downloads = tool.downloads if tool.downloads is not None else row.downloads
    snapshot.likes = tool.likes


async def record_media(
    session: AsyncSession,
    source_id: int,
    prepared: Sequence[NewArticle],
    known: Sequence[tuple[int, Article]],
    now: datetime,
) -> int:
    """Media of new and already-stored items of one poll; returns how many were recorded."""
    items = await _new_ids(session, source_id, prepared)
    items += [(row_id, article) for row_id, article in known if article.media is not None]
    for article_id, article in items:
        media = article.media
        if media is None:
            continue
        if media.video is not None:
            await _video(session, article_id, media.video)
        if media.tool is not None:
            await _tool(session, article_id, media.tool, now)
    return len(items)
