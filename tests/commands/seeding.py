"""Seed the store directly for command tests: sources, stories, articles, enrichments."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

from bot.store.db import Database
from bot.store.schema import ArticleRow, EnrichmentRow, Source, Story

HOSTILE_TITLE = "@everyone <@&1> <!channel> <!here> <@U1> *bold* _it_ ~s~ `code` <http://x|y> & co"
_serial = itertools.count(1)


async def add_source(
    db: Database,
    name: str = "Wire",
    *,
    kind: str = "feed",
    error_count: int = 0,
    last_error: str | None = None,
    disabled: bool = False,
) -> int:
    async with db.session() as session:
        source = Source(
            name=name,
            url=f"https://feeds.example.com/{next(_serial)}.xml",
            kind=kind,
            error_count=error_count,
            last_error=last_error,
            disabled=disabled,
        )
        session.add(source)
        await session.flush()
        return source.id


async def add_article(
    db: Database,
    source_id: int,
    title: str,
    published_at: datetime,
    *,
    url: str | None = None,
    content: str = "",
    importance: int | None = 3,
    tags: tuple[str, ...] = ("llm",),
    tldr: str | None = None,
    points: int | None = None,
) -> int:
    """One article in its own story, enriched unless `importance` is None."""
    serial = next(_serial)
    link = url or f"https://news.example.com/{serial}"
    async with db.session() as session:
        story = Story(
            title=title,
            fingerprint=hashlib.sha256(f"{serial}{title}".encode()).hexdigest(),
            first_seen_at=published_at,
        )
        session.add(story)
        await session.flush()
        article = ArticleRow(
            source_id=source_id,
            story_id=story.id,
            identity=hashlib.sha256(f"{serial}:{title}".encode()).hexdigest(),
            guid=link,
            url=link,
            canonical_url=link,
            title=title,
            content=content or f"{title}. Body text about models.",
            lang="en",
            published_at=published_at,
            fetched_at=published_at,
            points=points,
            enrich_status="done" if importance is not None else "pending",
        )
        session.add(article)
        await session.flush()
        if importance is not None:
            session.add(
                EnrichmentRow(
                    article_id=article.id,
                    tldr=tldr if tldr is not None else f"TL;DR of {title}",
                    key_points=["first point", "second point"],
                    tags=list(tags),
                    depth=importance,
                    relevance=importance,
                    practicality=importance,
                    innovation=importance,
                    reasons={
                        "depth": "explains the method",
                        "relevance": "about LLMs",
                        "practicality": "usable today",
                        "innovation": "new idea",
                    },
                    importance=importance,
                    lang="en",
                    engine="offline",
                )
            )
        return article.id
