"""The APScheduler trigger table, and a real AsyncIOScheduler firing the outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.delivery import OutboxEntry, enqueue_many
from bot.jobs import Jobs
from bot.runtime import StoreOnlyContext
from bot.store.db import Database
from tests.fakes.notifiers import RecordingNotifier
from tests.fakes.store_seed import add_channel


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
    scheduler = Jobs(ctx, {"console": notifier}).scheduler()  # type: ignore[arg-type]
    scheduler.start()
    try:
        scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))
        for _ in range(200):
            if notifier.sent:
                break
            await asyncio.sleep(0.02)
    finally:
        scheduler.shutdown(wait=False)
    assert [key for _, key in notifier.delivered_keys()] == ["alert:story:1"]
    assert {job.id for job in scheduler.get_jobs()} >= {"deliver", "alerts"}
