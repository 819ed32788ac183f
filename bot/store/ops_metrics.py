"""Store-side operational figures for `/metrics`: outbox latency from due to sent, queue depth by
state and paused destinations per platform — read from the shared database, so every replica
reports the same and a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.schema import Channel, Delivery

LATENCY_WINDOW = timedelta(hours=24)
LATENCY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0)


@dataclass(frozen=True, slots=True)
class OpsSnapshot:
    # cumulative counts per bucket upper bound (seconds), then +Inf, over the window
    latency_buckets: list[tuple[str, int]] = field(default_factory=list)
    latency_sum: float = 0.0
    outbox_depth: dict[str, int] = field(default_factory=dict)
    paused_by_platform: dict[str, int] = field(default_factory=dict)


async def ops_snapshot(session: AsyncSession, now: datetime) -> OpsSnapshot:
    rows = await session.execute(
        select(Delivery.created_at, Delivery.sent_at).where(
            Delivery.status == "sent", Delivery.sent_at >= now - LATENCY_WINDOW
        )
    )
    waits = sorted(
        max(0.0, (sent - created).total_seconds()) for created, sent in rows if sent is not None
    )
    buckets = [(f"{bound:g}", sum(1 for w in waits if w <= bound)) for bound in LATENCY_BUCKETS]
    buckets.append(("+Inf", len(waits)))
    depth: dict[str, int] = {
        status: int(count)
        for status, count in await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
    }
    paused: dict[str, int] = {
        platform: int(count)
        for platform, count in await session.execute(
            select(Channel.platform, func.count())
            .where(Channel.status != "active")
            .group_by(Channel.platform)
        )
    }
    return OpsSnapshot(
        latency_buckets=buckets,
        latency_sum=sum(waits),
        outbox_depth={state: depth.get(state, 0) for state in ("pending", "sending", "failed")},
        paused_by_platform=paused,
    )
