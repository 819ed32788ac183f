"""Digest use cases: pick the window in the reader's time zone, read candidates, build."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.read import candidates_between
from bot.store.schema import Delivery
from digest.build import build_digest, build_hn_digest, local_day_window, week_window
from digest.models import Digest, DigestKind

if TYPE_CHECKING:
    from bot.context import AppContext

ALERT_KEY_PREFIX = "alert:story:"


async def alerted_story_ids(session: AsyncSession, channel_id: int | None) -> set[int]:
    """Stories already alerted (or queued as alerts) to one channel, from its outbox keys."""
    if channel_id is None:
        return set()
    keys = await session.scalars(
        select(Delivery.key).where(
            Delivery.channel_id == channel_id, Delivery.key.startswith(ALERT_KEY_PREFIX)
        )
    )
    return {int(key.removeprefix(ALERT_KEY_PREFIX)) for key in keys}


def local_today(ctx: AppContext, tz: str) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(tz)).date()


async def digest_for(
    ctx: AppContext,
    kind: DigestKind,
    *,
    day: date | None = None,
    tz: str | None = None,
    lang: str | None = None,
    tags: Iterable[str] = (),
    size: int | None = None,
    channel_id: int | None = None,
) -> Digest:
    """The daily, weekly or HN digest of a local calendar day (default: today in `tz`)."""
    settings = ctx.settings
    zone_name = tz or settings.digest.timezone
    zone = ZoneInfo(zone_name)
    the_day = day or local_today(ctx, zone_name)
    the_lang = lang or settings.enrich.lang
    the_size = size or settings.digest.size
    async with ctx.db.session() as session:
        alerted = await alerted_story_ids(session, channel_id)
        if kind == "weekly":
            start, end = week_window(the_day, zone)
            before_start, _ = week_window(the_day - timedelta(days=7), zone)
            current = await candidates_between(session, start, end, alerted_story_ids=alerted)
            previous = await candidates_between(session, before_start, start)
            return build_digest(
                "weekly", the_day, the_lang, current, size=the_size, tags=tags, previous=previous
            )
        start, end = local_day_window(the_day, zone)
        if kind == "hn":
            hn = await candidates_between(
                session, start, end, source_kind="hackernews", alerted_story_ids=alerted
            )
            return build_hn_digest(
                the_day, the_lang, hn, size=the_size, min_points=settings.digest.hn_min_points
            )
        daily = await candidates_between(session, start, end, alerted_story_ids=alerted)
        return build_digest("daily", the_day, the_lang, daily, size=the_size, tags=tags)
