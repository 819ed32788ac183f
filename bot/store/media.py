"""Store what a feed said about videos and tools beside its articles (in the ingest writer's
transaction: synchronous, like the rest of `bot.ingest.write`).

A tool is keyed across sources and days (`tools.key`), so the same repository seen again,
in another feed or on another day, updates one row's numbers and adds one snapshot per UTC day
(the history growth is computed from) instead of becoming a new article in the tools section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.articles import NewArticle
from bot.store.schema import ArticleMedia, ArticleRow, ToolRow, ToolSnapshot
from digest.models import Article, ToolInfo, VideoInfo

__all__ = ["record_media"]


def _new_ids(
    session: Session, source_id: int, prepared: Sequence[NewArticle]
) -> list[tuple[int, Article]]:
    wanted = {new.identity: new.article for new in prepared if new.article.media is not None}
    if not wanted:
        return []
    rows = session.execute(
        select(ArticleRow.id, ArticleRow.identity).where(
            ArticleRow.source_id == source_id, ArticleRow.identity.in_(list(wanted))
        )
    )
    return [(row_id, wanted[identity]) for row_id, identity in rows]


def _video(session: Session, article_id: int, video: VideoInfo) -> None:
    row = session.scalar(select(ArticleMedia).where(ArticleMedia.article_id == article_id))
    if row is None:
        row = ArticleMedia(article_id=article_id)
        session.add(row)
    row.video_id = video.video_id
    row.thumbnail = video.thumbnail
    row.channel = video.channel
    row.duration_seconds = video.duration_seconds
    if video.views is not None:
        row.views = video.views


def _tool(session: Session, article_id: int, tool: ToolInfo, now: datetime) -> None:
    row = session.scalar(select(ToolRow).where(ToolRow.key == tool.key))
    if row is None:
        fresh = ToolRow(
            key=tool.key, name=tool.name, kind=tool.kind, article_id=article_id, first_seen_at=now
        )
        try:
            # a savepoint: another replica may have created this tool a moment ago
            with session.begin_nested():
                session.add(fresh)
            row = fresh
        except IntegrityError:
            row = session.scalar(select(ToolRow).where(ToolRow.key == tool.key))
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
    session.flush()
    day = now.date().isoformat()
    snapshot = session.scalar(
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


def record_media(
    session: Session,
    source_id: int,
    prepared: Sequence[NewArticle],
    known: Sequence[tuple[int, Article]],
    now: datetime,
) -> int:
    """Media of new and already-stored items of one poll; returns how many were recorded."""
    items = _new_ids(session, source_id, prepared)
    items += [(row_id, article) for row_id, article in known if article.media is not None]
    for article_id, article in items:
        media = article.media
        if media is None:
            continue
        if media.video is not None:
            _video(session, article_id, media.video)
        if media.tool is not None:
            _tool(session, article_id, media.tool, now)
    return len(items)
