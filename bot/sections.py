"""Section digests that are not a day's news: AI tools by momentum and the latest videos.

Both come back as `Digest` objects (kinds "tools" and "videos") whose items carry their tool
numbers or video facts, so every renderer, the outbox and `--format json` handle them as digests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests import local_today
from bot.runtime import StoreContext
from bot.store.read import candidate_query, load_candidates
from bot.store.schema import ArticleMedia, ArticleRow, EnrichmentRow, ToolRow, ToolSnapshot
from digest.build import digest_item, one_per_story
from digest.models import Digest, DigestItem, StoryCandidate, ToolStats, VideoInfo
from digest.tools import Sighting, growth, momentum

__all__ = ["TOOL_WINDOW_DAYS", "tools_digest", "videos_digest"]

TOOL_WINDOW_DAYS = 14
VIDEO_ROWS = 200


def _matches(item: DigestItem, tag: str | None) -> bool:
    if not tag:
        return True
    extras = (item.tool.task, item.tool.language, item.tool.kind) if item.tool else ()
    return tag in item.tags or tag in (e.lower() for e in extras)


async def _candidates(session: AsyncSession, ids: list[int]) -> dict[int, StoryCandidate]:
    if not ids:
        return {}
    found = await load_candidates(session, candidate_query().where(ArticleRow.id.in_(ids)))
    return {c.article_id: c for c in found}


async def _history(
    session: AsyncSession, tool_ids: list[int], since: date
) -> dict[int, list[ToolSnapshot]]:
    rows = await session.execute(
        select(ToolSnapshot).where(
            ToolSnapshot.tool_id.in_(tool_ids), ToolSnapshot.day >= since.isoformat()
        )
    )
    out: dict[int, list[ToolSnapshot]] = defaultdict(list)
    for (snap,) in rows:
        out[snap.tool_id].append(snap)
    return out


def _stats(row: ToolRow, snaps: list[ToolSnapshot], *, is_ai: bool, importance: int) -> ToolStats:
    use_stars = row.stars is not None
    history = [
        Sighting(date.fromisoformat(s.day), value)
        for s in snaps
        if (value := (s.stars if use_stars else s.downloads)) is not None
    ]
    today = row.stars_today if use_stars else None
    return ToolStats(
        key=row.key,
        name=row.name,
        kind=row.kind,
        stars=row.stars,
        downloads=row.downloads,
        stars_today=row.stars_today,
        growth=growth(history, today),
        momentum=momentum(history, today, is_ai=is_ai, importance=importance),
        license=row.license,
        task=row.task,
        language=row.language,
    )


async def tool_items(ctx: StoreContext, *, tag: str | None = None) -> list[DigestItem]:
    """Tools seen lately plus items the editor judged to be tools, by momentum."""
    now = ctx.clock.now()
    since = now - timedelta(days=TOOL_WINDOW_DAYS)
    async with ctx.db.session() as session:
        tools = list(
            (await session.scalars(select(ToolRow).where(ToolRow.last_seen_at >= since))).all()
        )
        editorial_ids = list(
            (
                await session.scalars(
                    select(ArticleRow.id)
                    .join(EnrichmentRow, EnrichmentRow.article_id == ArticleRow.id)
                    .where(EnrichmentRow.kind == "tool", ArticleRow.published_at >= since)
                    .order_by(ArticleRow.id.desc())
                    .limit(200)
                )
            ).all()
        )
        ai_rows = await session.execute(
            select(EnrichmentRow.article_id, EnrichmentRow.is_ai).where(
                EnrichmentRow.article_id.in_([t.article_id for t in tools] + editorial_ids)
            )
        )
        is_ai = {article_id: flag for article_id, flag in ai_rows}
        history = await _history(session, [t.id for t in tools], since.date())
        candidates = await _candidates(
            session, sorted({t.article_id for t in tools} | set(editorial_ids))
        )
    items: list[DigestItem] = []
    tooled: set[int] = set()
    for row in tools:
        candidate = candidates.get(row.article_id)
        if candidate is None:
            continue
        # an unenriched repo is not known to be AI; the enricher decides when it runs
        stats = _stats(
            row,
            history.get(row.id, []),
            is_ai=is_ai.get(row.article_id, False),
            importance=candidate.importance,
        )
        item = replace(
            digest_item(candidate), kind="tool", tool=stats, published_at=row.last_seen_at
        )
        items.append(item)
        tooled.add(candidate.story_id)
    for article_id in editorial_ids:
        candidate = candidates.get(article_id)
        if candidate is None or candidate.story_id in tooled:
            continue
        stats = ToolStats(
            key=f"article:{article_id}",
            name=candidate.title,
            kind="product",
            stars=None,
            downloads=None,
            momentum=momentum(
                [], None, is_ai=is_ai.get(article_id, True), importance=candidate.importance
            ),
        )
        items.append(replace(digest_item(candidate), kind="tool", tool=stats))
        tooled.add(candidate.story_id)
    items = [item for item in items if _matches(item, tag)]
    items.sort(key=lambda i: (-(i.tool.momentum if i.tool else 0.0), -i.importance, i.article_id))
    return items


async def tools_digest(
    ctx: StoreContext,
    *,
    tag: str | None = None,
    lang: str | None = None,
    size: int | None = None,
    tz: str | None = None,
) -> Digest:
    items = await tool_items(ctx, tag=tag)
    return Digest(
        kind="tools",
        day=local_today(ctx, tz or ctx.settings.digest.timezone),
        lang=lang or ctx.settings.enrich.lang,
        items=tuple(items[: size or ctx.settings.digest.size]),
        tag=tag,
    )


async def videos_digest(
    ctx: StoreContext,
    *,
    lang: str | None = None,
    size: int | None = None,
    tz: str | None = None,
) -> Digest:
    """The newest videos, one per story, each with its thumbnail, channel and views (a channel
    that posts monthly still shows its latest, so there is no age cut-off)."""
    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                select(ArticleMedia)
                .join(ArticleRow, ArticleRow.id == ArticleMedia.article_id)
                .where(ArticleMedia.video_id != "")
                .order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc())
                .limit(VIDEO_ROWS)
            )
        ).all()
        media = {m.article_id: m for (m,) in rows}
        candidates = await _candidates(session, list(media))
    best = one_per_story(candidates.values())
    best.sort(key=lambda c: (c.published_at, c.article_id), reverse=True)
    items = []
    for candidate in best[: size or ctx.settings.digest.size]:
        row = media[candidate.article_id]
        video = VideoInfo(
            video_id=row.video_id,
            thumbnail=row.thumbnail,
            channel=row.channel,
            duration_seconds=row.duration_seconds,
            views=row.views,
        )
        items.append(replace(digest_item(candidate), kind="video", video=video))
    return Digest(
        kind="videos",
        day=local_today(ctx, tz or ctx.settings.digest.timezone),
        lang=lang or ctx.settings.enrich.lang,
        items=tuple(items),
    )
