"""Destinations and their preferences: language, time zone, digest time, alerts, tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.messages import Destination
from bot.store.schema import Channel, Subscription

MAX_TAG_CHARS = 50


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    """A channel's settings with config defaults filled in where the channel set nothing."""

    lang: str
    tz: str
    digest_time: str
    alert_threshold: int
    alerts_enabled: bool


def prefs_of(settings: Settings, channel: Channel) -> ChannelPrefs:
    return ChannelPrefs(
        lang=channel.lang or settings.enrich.lang,
        tz=channel.tz or settings.digest.timezone,
        digest_time=channel.digest_time or settings.digest.daily_time,
        alert_threshold=channel.alert_threshold or settings.digest.alert_threshold,
        alerts_enabled=channel.alerts_enabled,
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
