"""Digest use cases: pick the window in the reader's time zone, read candidates, build."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import active_channels, prefs_of, tags_by_channel
from bot.config import parse_hh_mm
from bot.delivery import SKIPPED, OutboxEntry, enqueue_many
from bot.runtime import StoreContext
from bot.store.read import candidates_between
from bot.store.schema import Channel, Delivery
from digest.build import (
    build_digest,
    build_hn_digest,
    due_digest_day,
    due_weekly_day,
    local_day_window,
    week_window,
)
from digest.models import Digest, DigestKind
from digest.serialize import digest_to_dict

log = logging.getLogger(__name__)

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


def local_today(ctx: StoreContext, tz: str) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(tz)).date()


async def digest_for(
    ctx: StoreContext,
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


def digest_payload(digest: Digest) -> dict[str, object]:
    """The outbox payload every notifier renders for a digest."""
    return {"type": "digest", "digest": digest_to_dict(digest)}


def _due_digests(
    ctx: StoreContext, channel: Channel, now: datetime
) -> list[tuple[DigestKind, date]]:
    """Which digests this channel is owed at `now`, judged on its own wall clock."""
    settings = ctx.settings
    prefs = prefs_of(settings, channel)
    local_now = now.astimezone(ZoneInfo(prefs.tz))
    hour, minute = parse_hh_mm(prefs.digest_time)
    at = time(hour, minute)
    due: list[tuple[DigestKind, date]] = []
    day = due_digest_day(local_now, at)
    if day is None:
        return due
    if channel.digest_enabled:
        due.append(("daily", day))
    if channel.hn_enabled:
        due.append(("hn", day))
    weekly_end = due_weekly_day(local_now, at, settings.digest.weekly_day)
    if channel.weekly_enabled and weekly_end is not None:
        due.append(("weekly", weekly_end))
    return due


async def enqueue_due_digests(ctx: StoreContext) -> int:
    """Queue every digest now due for each active channel; returns how many rows were new.

    Runs every minute on every replica: the outbox's unique key, not the scheduler, makes each
    digest happen once. A digest with no stories is recorded as `skipped`, so it is not rebuilt.
    """
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        channels = await active_channels(session)
        wanted = {
            (channel.id, f"{kind}:{day.isoformat()}"): (channel, kind, day)
            for channel in channels
            for kind, day in _due_digests(ctx, channel, now)
        }
        if not wanted:
            return 0
        existing: set[tuple[int, str]] = set()
        pairs = list(wanted)
        for start in range(0, len(pairs), 500):
            rows = await session.execute(
                select(Delivery.channel_id, Delivery.key).where(
                    tuple_(Delivery.channel_id, Delivery.key).in_(pairs[start : start + 500])
                )
            )
            existing.update((channel_id, key) for channel_id, key in rows)
        missing = [pair for pair in pairs if pair not in existing]
        tags = await tags_by_channel(session, {channel_id for channel_id, _ in missing})
    entries: list[OutboxEntry] = []
    for channel_id, key in missing:
        channel, kind, day = wanted[(channel_id, key)]
        prefs = prefs_of(ctx.settings, channel)
        digest = await digest_for(
            ctx,
            kind,
            day=day,
            tz=prefs.tz,
            lang=prefs.lang,
            tags=tags.get(channel_id, ()),
            channel_id=channel_id,
        )
        empty = not digest.items
        entries.append(
            OutboxEntry(
                channel_id=channel_id,
                key=key,
                kind=kind,
                payload=digest_payload(digest),
                status=SKIPPED if empty else "pending",
                note="no stories in this window" if empty else None,
            )
        )
    async with ctx.db.session() as session:
        created = await enqueue_many(session, entries, now)
    if created:
        log.info("queued %d digest deliveries", created)
    return created
