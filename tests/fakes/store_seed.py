"""Seed the store directly (sources, stories, articles, enrichments, channels) for delivery tests,
so they do not depend on ingest or enrichment; plus a clock tests can move."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from bot.store.db import Database
from bot.store.schema import ArticleRow, Channel, EnrichmentRow, Source, Story, Subscription


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now


async def add_source(db: Database, name: str = "Wire", kind: str = "feed") -> int:
    async with db.session() as session:
        source = Source(
            name=name, url=f"https://example.com/{name.replace(' ', '-')}.xml", kind=kind
        )
        session.add(source)
        await session.flush()
        return source.id


async def add_story(
    db: Database,
    source_id: int,
    title: str,
    published_at: datetime,
    *,
    importance: int = 3,
    tags: tuple[str, ...] = ("llm",),
    is_backlog: bool = False,
    story_id: int | None = None,
    points: int | None = None,
) -> tuple[int, int]:
    """One article (joining `story_id` or a new story) with an enrichment; returns both ids."""
    async with db.session() as session:
        if story_id is None:
            story = Story(
                title=title,
                fingerprint=hashlib.sha256(title.encode()).hexdigest(),
                first_seen_at=published_at,
            )
            session.add(story)
            await session.flush()
            story_id = story.id
        else:
            story = await session.get(Story, story_id)
            assert story is not None
            story.source_count += 1
        article = ArticleRow(
            source_id=source_id,
            story_id=story_id,
            identity=hashlib.sha256(f"{source_id}:{title}".encode()).hexdigest(),
            guid=title,
            url=f"https://example.com/{abs(hash(title))}",
            canonical_url=f"https://example.com/{abs(hash(title))}",
            title=title,
            content=f"{title}. Body text.",
            lang="en",
            published_at=published_at,
            fetched_at=published_at,
            is_backlog=is_backlog,
            points=points,
            enrich_status="done",
        )
        session.add(article)
        await session.flush()
        session.add(
            EnrichmentRow(
                article_id=article.id,
                tldr=f"TL;DR of {title}",
                key_points=["a point"],
                tags=list(tags),
                depth=importance,
                relevance=importance,
                practicality=importance,
                innovation=importance,
                reasons={
                    "depth": "r",
                    "relevance": "r",
                    "practicality": "r",
                    "innovation": "r",
                },
                importance=importance,
                lang="en",
                engine="offline",
            )
        )
        return story_id, article.id


async def add_channel(
    db: Database,
    channel: str,
    *,
    platform: str = "console",
    workspace: str = "w",
    tags: tuple[str, ...] = (),
    **prefs: Any,
) -> int:
    async with db.session() as session:
        row = Channel(platform=platform, workspace=workspace, channel=channel, **prefs)
        session.add(row)
        await session.flush()
        for tag in tags:
            session.add(Subscription(channel_id=row.id, tag=tag))
        return row.id
