"""Digest use cases: pick the window in the reader's time zone, read candidates, build."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import active_channels, prefs_of, tags_by_channel
from bot.config import Settings, parse_hh_mm
from bot.delivery import SKIPPED, OutboxEntry, enqueue_many
from bot.runtime import StoreContext
from bot.store.read import candidates_between
from bot.store.schema import Channel, Delivery
from bot.tuning import NO_TUNING, Tuning, entities_for, tuning_by_channel
from digest.build import (
    build_digest,
    build_hn_digest,
    due_digest_day,
    due_weekly_day,
    local_day_window,
    week_window,
)
from digest.models import Digest, DigestKind, StoryCandidate
from digest.serialize import digest_to_dict

log = logging.getLogger(__name__)

ALERT_KEY_PREFIX = "alert:story:"


def alert_key(story_id: int) -> str:
    """The outbox key of a story's alert to a channel; digests read it back to mark alerted."""
    return f"{ALERT_KEY_PREFIX}{story_id}"


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


@dataclass(frozen=True, slots=True)
class WindowCandidates:
    """What one (kind, local day, zone) digest window holds, read once, shared by channels."""

    kind: DigestKind
    day: date
    current: list[StoryCandidate]
    previous: list[StoryCandidate]


async def window_candidates(
    session: AsyncSession, kind: DigestKind, day: date, tz: str
) -> WindowCandidates:
    """Read a digest window's candidates; weekly also reads the week before (rising tags)."""
    zone = ZoneInfo(tz)
    if kind == "weekly":
        start, end = week_window(day, zone)
        before_start, _ = week_window(day - timedelta(days=7), zone)
        current = await candidates_between(session, start, end)
        previous = await candidates_between(session, before_start, start)
        return WindowCandidates(kind, day, current, previous)
    start, end = local_day_window(day, zone)
    source_kind = "hackernews" if kind == "hn" else None
    current = await candidates_between(session, start, end, source_kind=source_kind)
    return WindowCandidates(kind, day, current, [])


def assemble_digest(
    settings: Settings,
    window: WindowCandidates,
    *,
    lang: str,
    tags: Iterable[str],
    size: int,
    alerted: set[int],
    tuning: Tuning = NO_TUNING,
    entities: Mapping[int, list[str]] | None = None,
) -> Digest:
    """Build one reader's digest from a shared window: their tags, language, alert marks, mutes
    and feedback (which reorders, never rescores)."""
    current, boost = tuning.select(window.current, entities or {})
    if alerted:
        current = [replace(c, alerted=c.story_id in alerted) for c in current]
    if window.kind == "hn":
        return build_hn_digest(
            window.day, lang, current, size=size, min_points=settings.digest.hn_min_points
        )
    return build_digest(
        window.kind,
        window.day,
        lang,
        current,
        size=size,
        tags=tags,
        previous=window.previous,
        boost=boost,
    )


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
    the_day = day or local_today(ctx, zone_name)
    async with ctx.db.session() as session:
        alerted = await alerted_story_ids(session, channel_id)
        window = await window_candidates(session, kind, the_day, zone_name)
        tuning = NO_TUNING
        if channel_id is not None:
            tuning = (await tuning_by_channel(session, [channel_id]))[channel_id]
        entities = await entities_for(session, [tuning], window.current)
    return assemble_digest(
        settings,
        window,
        lang=lang or settings.enrich.lang,
        tags=tags,
        size=size or settings.digest.size,
        alerted=alerted,
        tuning=tuning,
        entities=entities,
    )


async def alerted_by_channel(
    session: AsyncSession, channel_ids: set[int], story_ids: set[int]
) -> dict[int, set[int]]:
    """Which of these stories each channel was alerted to, in a few queries for all channels."""
    found: dict[int, set[int]] = {channel_id: set() for channel_id in channel_ids}
    keys = sorted(alert_key(story_id) for story_id in story_ids)
    for start in range(0, len(keys), 500):
        rows = await session.execute(
            select(Delivery.channel_id, Delivery.key).where(
                Delivery.key.in_(keys[start : start + 500])
            )
        )
        for channel_id, key in rows:
            if channel_id in found:
                found[channel_id].add(int(key.removeprefix(ALERT_KEY_PREFIX)))
    return found


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
        if not missing:
            return 0
        tags = await tags_by_channel(session, {channel_id for channel_id, _ in missing})
        # channels sharing a zone share the window: read once, then cut per channel
        windows: dict[tuple[DigestKind, date, str], WindowCandidates] = {}
        for pair in missing:
            channel, kind, day = wanted[pair]
            tz = prefs_of(ctx.settings, channel).tz
            if (kind, day, tz) not in windows:
                windows[(kind, day, tz)] = await window_candidates(session, kind, day, tz)
        story_ids = {c.story_id for w in windows.values() for c in w.current}
        alerted = await alerted_by_channel(
            session, {channel_id for channel_id, _ in missing}, story_ids
        )
        tunings = await tuning_by_channel(session, {channel_id for channel_id, _ in missing})
        entities = await entities_for(
            session, tunings.values(), (c for w in windows.values() for c in w.current)
        )
    entries: list[OutboxEntry] = []
    for channel_id, key in missing:
        channel, kind, day = wanted[(channel_id, key)]
        prefs = prefs_of(ctx.settings, channel)
        digest = assemble_digest(
            ctx.settings,
            windows[(kind, day, prefs.tz)],
            lang=prefs.lang,
            tags=tags.get(channel_id, ()),
            size=ctx.settings.digest.size,
            alerted=alerted.get(channel_id, set()),
            tuning=tunings.get(channel_id, NO_TUNING),
            entities=entities,
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
