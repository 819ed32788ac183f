"""Destinations and their preferences: language, time zone, digest time, alerts, tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.messages import Destination
from bot.store.schema import Channel, Delivery, Subscription

MAX_TAG_CHARS = 50


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    """A channel's settings with config defaults filled in where the channel set nothing."""

    lang: str
    tz: str
    digest_time: str
    alert_threshold: int
    alerts_enabled: bool


def prefs_of(settings: Settings, channel: Channel | None) -> ChannelPrefs:
    """A channel's prefs; `None` (a channel that never changed anything) gets the defaults."""
    return ChannelPrefs(
        lang=(channel and channel.lang) or settings.translate.default_lang,
        tz=(channel and channel.tz) or settings.digest.timezone,
        digest_time=(channel and channel.digest_time) or settings.digest.daily_time,
        alert_threshold=(channel and channel.alert_threshold) or settings.digest.alert_threshold,
        alerts_enabled=channel.alerts_enabled if channel is not None else True,
    )


async def find_channel(session: AsyncSession, destination: Destination) -> Channel | None:
    return await session.scalar(
        select(Channel).where(
            Channel.platform == destination.platform,
            Channel.workspace == destination.workspace,
            Channel.channel == destination.channel,
        )
    )


async def get_or_create_channel(
    session: AsyncSession, destination: Destination, *, name: str = ""
) -> Channel:
    """The channel row for a destination, created on first use (safe under concurrent callers)."""
    found = await find_channel(session, destination)
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            channel = Channel(
                platform=destination.platform,
                workspace=destination.workspace,
                channel=destination.channel,
                name=name[:200],
            )
            session.add(channel)
        return channel
    except IntegrityError:
        found = await find_channel(session, destination)
        if found is None:
            raise
        return found


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, de-duplicated, `#` stripped, each within MAX_TAG_CHARS."""
    out: list[str] = []
    for tag in tags:
        clean = tag.strip().lstrip("#").lower()[:MAX_TAG_CHARS]
        if clean and clean not in out:
            out.append(clean)
    return out


async def channel_tags(session: AsyncSession, channel_id: int) -> list[str]:
    rows = await session.scalars(
        select(Subscription.tag)
        .where(Subscription.channel_id == channel_id)
        .order_by(Subscription.tag)
    )
    return list(rows)


async def subscribe(session: AsyncSession, channel: Channel, tags: Iterable[str]) -> list[str]:
    """Add tags; returns the channel's tags afterwards."""
    existing = set(await channel_tags(session, channel.id))
    for tag in normalise_tags(tags):
        if tag not in existing:
            session.add(Subscription(channel_id=channel.id, tag=tag))
            existing.add(tag)
    await session.flush()
    return sorted(existing)


async def unsubscribe(session: AsyncSession, channel: Channel, tags: Iterable[str]) -> list[str]:
    """Remove tags; returns the channel's tags afterwards."""
    await session.execute(
        delete(Subscription).where(
            Subscription.channel_id == channel.id, Subscription.tag.in_(normalise_tags(tags))
        )
    )
    return await channel_tags(session, channel.id)


CONSOLE_DESTINATION = Destination(platform="console", workspace="local", channel="stdout")
CONSOLE_PAUSED_REASON = "paused: platform tokens are configured"


def console_wanted(settings: Settings) -> bool:
    """The console destination serves a token-less install; with a platform token it stays quiet."""
    secrets = settings.secrets
    has_tokens = secrets.slack_bot_token is not None or secrets.discord_bot_token is not None
    return settings.console.enabled and not has_tokens


async def ensure_console_channel(session: AsyncSession, settings: Settings) -> Channel | None:
    """Create (or re-activate) the console destination when wanted; pause it when not."""
    if not console_wanted(settings):
        found = await find_channel(session, CONSOLE_DESTINATION)
        if found is not None and found.status == "active":
            found.status, found.disabled_reason = "disabled", CONSOLE_PAUSED_REASON
        return None
    channel = await get_or_create_channel(session, CONSOLE_DESTINATION, name="console")
    if channel.status != "active" and channel.disabled_reason == CONSOLE_PAUSED_REASON:
        channel.status, channel.disabled_reason = "active", None
    await session.flush()
    return channel


async def active_channels(session: AsyncSession) -> list[Channel]:
    """Every destination still accepting messages, in a stable order."""
    rows = await session.scalars(
        select(Channel).where(Channel.status == "active").order_by(Channel.id)
    )
    return list(rows)


async def tags_by_channel(
    session: AsyncSession, channel_ids: Iterable[int]
) -> dict[int, list[str]]:
    """Subscriptions of many channels in one query (the alert run covers every channel)."""
    ids = sorted(set(channel_ids))
    found: dict[int, list[str]] = {channel_id: [] for channel_id in ids}
    for start in range(0, len(ids), 1000):
        rows = await session.execute(
            select(Subscription.channel_id, Subscription.tag)
            .where(Subscription.channel_id.in_(ids[start : start + 1000]))
            .order_by(Subscription.channel_id, Subscription.tag)
        )
        for channel_id, tag in rows:
            found[channel_id].append(tag)
    return found


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """One destination as `ainews channels list` shows it; `pending` counts rows waiting."""

    id: int
    platform: str
    channel: str
    disabled: bool
    reason: str | None
    pending: int


async def channel_statuses(session: AsyncSession) -> list[ChannelStatus]:
    pending = dict(
        (
            await session.execute(
                select(Delivery.channel_id, func.count())
                .where(Delivery.status.in_(("pending", "sending")))
                .group_by(Delivery.channel_id)
            )
        ).all()
    )
    rows = await session.scalars(select(Channel).order_by(Channel.id))
    return [
        ChannelStatus(
            id=row.id,
            platform=row.platform,
            channel=row.channel,
            disabled=row.status != "active",
            reason=row.disabled_reason if row.status != "active" else None,
            pending=int(pending.get(row.id, 0)),
        )
        for row in rows
    ]


async def enable_channel(session: AsyncSession, channel: Channel) -> bool:
    """Re-activate a disabled channel; its pending rows go out with the next delivery run.

    Rows skipped while it was disabled (by older versions) wait again too. False when the
    channel was already active.
    """
    if channel.status == "active":
        return False
    channel.status, channel.disabled_reason = "active", None
    await session.execute(
        update(Delivery)
        .where(
            Delivery.channel_id == channel.id,
            Delivery.status == "skipped",
            Delivery.last_error.like("channel disabled%"),
        )
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return True
