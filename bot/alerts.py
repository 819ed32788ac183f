"""The hourly alert run: important new stories, one outbox row per (channel, story)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.channels import active_channels, prefs_of, tags_by_channel
from bot.delivery import OutboxEntry, enqueue_many
from bot.digests import alert_key, alerted_by_channel
from bot.runtime import StoreContext
from bot.store.read import candidates_between
from bot.tuning import entities_for, tuning_by_channel
from digest.build import digest_item, select_alerts
from digest.serialize import item_to_dict

log = logging.getLogger(__name__)

# Alerts are for news: a story published more than a day ago is digest material, not an alert.
ALERT_WINDOW = timedelta(hours=24)
# Feeds sometimes stamp items slightly ahead of our clock; they still count as new.
FUTURE_SLACK = timedelta(hours=1)


def alert_payload(lang: str, item: dict[str, Any]) -> dict[str, Any]:
    """The outbox payload every notifier renders for an alert (one story per row)."""
    return {"type": "alert", "lang": lang, "item": item}


async def enqueue_alerts(ctx: StoreContext) -> int:
    """Queue an alert for every story at or above each channel's threshold, matching its tags,
    not alerted to it before and not from a source's first-poll backlog; returns rows created."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        channels = [c for c in await active_channels(session) if c.alerts_enabled]
        if not channels:
            return 0
        candidates = await candidates_between(session, now - ALERT_WINDOW, now + FUTURE_SLACK)
        candidates = [c for c in candidates if not c.is_backlog]
        if not candidates:
            return 0
        tags = await tags_by_channel(session, [c.id for c in channels])
        sent = await alerted_by_channel(
            session, {c.id for c in channels}, {c.story_id for c in candidates}
        )
        tunings = await tuning_by_channel(session, [c.id for c in channels])
        entities = await entities_for(session, tunings.values(), candidates)
    per_story: dict[int, list[OutboxEntry]] = {}
    items: dict[int, dict[str, Any]] = {}
    for channel in channels:
        prefs = prefs_of(ctx.settings, channel)
        kept, boost = tunings[channel.id].select(candidates, entities)
        for story in select_alerts(
            kept,
            threshold=prefs.alert_threshold,
            tags=tags.get(channel.id, ()),
            already_sent=sent[channel.id],
            boost=boost,
        ):
            item = items.get(story.story_id)
            if item is None:
                item = items[story.story_id] = item_to_dict(digest_item(story))
            per_story.setdefault(story.story_id, []).append(
                OutboxEntry(
                    channel_id=channel.id,
                    key=alert_key(story.story_id),
                    kind="alert",
                    payload=alert_payload(prefs.lang, item),
                )
            )
    # story-major order: workers claim by id, so one story reaches every channel before the
    # next story goes out, which spaces a channel's messages under per-channel rate limits
    entries = [entry for rows in per_story.values() for entry in rows]
    async with ctx.db.session() as session:
        created = await enqueue_many(session, entries, now)
    if created:
        log.info("queued %d alert deliveries", created)
    return created
