"""The APScheduler trigger table, and a real AsyncIOScheduler firing the outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import OutboxEntry, enqueue_many
from bot.jobs import Jobs
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from bot.store.schema import Delivery
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.store_seed import add_channel
from tests.waiting import until


def test_trigger_table() -> None:
    jobs = Jobs(None, {})  # type: ignore[arg-type]  # the table needs no context
    table = {spec.id: spec.trigger for spec, _ in jobs.table()}
    assert set(table) == {"poll", "enrich", "digests", "alerts", "deliver", "retention"}
    assert isinstance(table["digests"], IntervalTrigger)
    assert table["digests"].interval == timedelta(minutes=1)
    alerts = table["alerts"]
    assert isinstance(alerts, CronTrigger)
    after = datetime(2026, 11, 28, 10, 17, tzinfo=UTC)
    assert alerts.get_next_fire_time(None, after) == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


async def test_scheduler_fires_the_worker(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    ctx = StoreOnlyContext(settings=make_settings(), db=db)
    channel = await add_channel(db, "c")
    async with db.session() as session:
        payload = {"type": "alert", "item": {"story_id": 1}}
        entry = OutboxEntry(channel, "alert:story:1", "alert", payload)
        await enqueue_many(session, [entry], ctx.clock.now())
    notifier = RecordingNotifier()
    jobs = Jobs(ctx, {"console": notifier})  # type: ignore[arg-type]
    scheduler = jobs.scheduler()
    scheduler.start()
    try:
        scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))
        await notifier.wait_sent(1)
    finally:
        await jobs.stop(scheduler)  # as the service stops: no job cut off in the middle
    assert [key for _, key in notifier.delivered_keys()] == ["alert:story:1"]
    assert {job.id for job in scheduler.get_jobs()} >= {"deliver", "alerts"}


class _HeldNotifier:
    """Holds each send until released, so a stop can arrive while one is on the wire."""

    platform = "console"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, workspace: str, channel: str, payload: Any, nonce: str, **_: Any) -> Any:
        from bot.ports import SentMessage

        self.started.set()
        await self.release.wait()
        self.sent.append(nonce)
        return SentMessage(platform_message_id=f"m-{nonce}")


async def test_stop_lets_the_send_in_flight_finish_and_marks_it(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    """SIGTERM's path: no new claims, the send on the wire completes and is marked, the row
    queued behind it goes back untouched — then the scheduler is shut down."""
    ctx = StoreOnlyContext(settings=make_settings(delivery={"drain_seconds": 60}), db=db)
    channel = await add_channel(db, "c")
    async with db.session() as session:
        entries = [
            OutboxEntry(channel, f"alert:story:{n}", "alert", {"type": "alert"}) for n in (1, 2)
        ]
        await enqueue_many(session, entries, ctx.clock.now())
    notifier = _HeldNotifier()
    jobs = Jobs(ctx, {"console": notifier})  # type: ignore[arg-type]
    scheduler = jobs.scheduler()
    scheduler.start()
    scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))
    await notifier.started.wait()
    stopping = asyncio.create_task(jobs.stop(scheduler))
    # the stop is under way (the outbox claims nothing more) while the send is still held
    await until(lambda: jobs.outbox.stopping, what="the outbox to stop claiming")
    assert not stopping.done()
    notifier.release.set()
    await stopping
    assert not scheduler.running
    async with db.session() as session:
        rows = {r.key: r for r in await session.scalars(select(Delivery))}
    assert len(notifier.sent) == 1
    assert rows["alert:story:1"].status == "sent"
    assert rows["alert:story:2"].status == "pending" and rows["alert:story:2"].attempts == 0
